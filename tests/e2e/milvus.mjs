// SDK helpers shared by the end-to-end tests: raw RPCs, status assertions and schema builders.
import assert from 'node:assert/strict';
import {
  DataType, ErrorCode, formatCollectionSchema, parseToKeyValue, promisify,
} from '@zilliz/milvus2-sdk-node';

export { DataType };

// Milvus error codes (pkg/util/merr) the tests check for.
export const Code = {
  CollectionNotFound: 100,
  CollectionNotLoaded: 101,
  PartitionNotFound: 200,
  IndexNotFound: 700,
  ParameterInvalid: 1100,
  DatabaseNotFound: 800,
  DatabaseInvalidName: 802,
  AliasNotFound: 1600,
  AliasCollectionNameConflict: 1601,
  AliasAlreadyExist: 1602,
  ServiceUnimplemented: 10,
};

// Calls a MilvusService RPC with exactly `request`, skipping the SDK's client-side checks, so
// that the server's own validation is what gets tested.
export function rawCall(client, method, request) {
  return promisify(client.channelPool, method, request, client.timeout);
}

// CreateCollection with SDK-style field specs but none of the SDK's schema checks.
export function rawCreateCollection(client, request) {
  const schemaTypes = {
    collectionSchemaType: client.schemaProto.lookupType(client.protoInternalPath.collectionSchema),
    fieldSchemaType: client.schemaProto.lookupType(client.protoInternalPath.fieldSchema),
    functionSchemaType: client.schemaProto.lookupType(client.protoInternalPath.functionSchema),
    structArrayFieldSchemaType: client.schemaProto.lookupType(client.protoInternalPath.structArrayFieldSchema),
  };
  const schema = schemaTypes.collectionSchemaType.create(formatCollectionSchema(request, schemaTypes));
  const { fields, properties, ...rest } = request;
  return rawCall(client, 'CreateCollection', {
    ...rest,
    properties: parseToKeyValue(properties),
    schema: schemaTypes.collectionSchemaType.encode(schema).finish(),
  });
}

// The SDK's createCollection throws the status object on failure; this returns it instead.
export async function createCollection(client, request) {
  try {
    return await client.createCollection(request);
  } catch (error) {
    if (error && typeof error === 'object' && 'error_code' in error) return error;
    throw error;
  }
}

// Accepts a bare status or a response carrying one.
function statusOf(response) {
  assert.ok(response && typeof response === 'object', `expected a response, got ${JSON.stringify(response)}`);
  return response.status ?? response;
}

export function assertOk(response, what = 'call') {
  const status = statusOf(response);
  assert.equal(status.error_code, ErrorCode.SUCCESS,
    `${what} failed: code ${status.code}, error_code ${status.error_code}, reason "${status.reason}"`);
  assert.ok(!status.code, `${what}: success carries non-zero code ${status.code}`);
  return response;
}

// Asserts a failed status; `code` (a Milvus merr code) and `reason` (a RegExp) are optional.
export function assertError(response, { code, reason } = {}, what = 'call') {
  const status = statusOf(response);
  assert.notEqual(status.error_code, ErrorCode.SUCCESS,
    `${what} succeeded, expected ${code !== undefined ? `code ${code}` : 'an error'}`);
  assert.ok(status.reason, `${what}: error without a reason`);
  if (code !== undefined) {
    assert.equal(status.code, code, `${what}: expected code ${code}, got ${status.code} ("${status.reason}")`);
  } else {
    assert.ok(status.code, `${what}: error with code 0 ("${status.reason}")`);
  }
  if (reason) assert.match(status.reason, reason, `${what}: unexpected reason`);
  return status;
}

export async function listCollectionNames(client, dbName) {
  const response = assertOk(await client.showCollections(dbName ? { db_name: dbName } : {}), 'ShowCollections');
  return [...response.collection_names].sort();
}

export async function listPartitionNames(client, collectionName, dbName) {
  const request = { collection_name: collectionName, ...(dbName ? { db_name: dbName } : {}) };
  const response = assertOk(await client.showPartitions(request), 'ShowPartitions');
  return [...response.partition_names].sort();
}

export async function listDatabaseNames(client) {
  const response = assertOk(await client.listDatabases(), 'ListDatabases');
  return [...response.db_names].sort();
}

export async function describe(client, collectionName, dbName) {
  const request = { collection_name: collectionName, ...(dbName ? { db_name: dbName } : {}) };
  return assertOk(await client.describeCollection(request), `DescribeCollection(${collectionName})`);
}

// describe's answer without the fields that differ per request, for before/after comparisons.
export async function describeSnapshot(client, collectionName, dbName) {
  const { status, request_time: requestTime, ...stable } = await describe(client, collectionName, dbName);
  return stable;
}

export function propertyMap(properties) {
  return Object.fromEntries(properties.map(({ key, value }) => [key, value]));
}

// A minimal valid collection: Int64 primary key and a float vector of `dim`.
export function simpleFields(dim = 8) {
  return [
    { name: 'id', data_type: DataType.Int64, is_primary_key: true, autoID: false },
    { name: 'vector', data_type: DataType.FloatVector, dim },
  ];
}

// Unique names keep tests within one server independent of each other.
let nameCounter = 0;
export function uniqueName(prefix) {
  nameCounter += 1;
  return `${prefix}_${process.pid}_${nameCounter}`;
}
