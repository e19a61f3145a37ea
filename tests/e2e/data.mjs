// Helpers for the write-path tests (issue #3): loading, exact counts and row reads, raw
// inserts that skip the SDK's client-side checks, and polling for eventual results.
import assert from 'node:assert/strict';
import { DataType, assertOk, rawCall } from './milvus.mjs';

export const LoadState = {
  NotExist: 'LoadStateNotExist',
  NotLoad: 'LoadStateNotLoad',
  Loading: 'LoadStateLoading',
  Loaded: 'LoadStateLoaded',
};

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls `probe` until it returns a truthy value; fails with `what` and the last value seen.
export async function waitFor(probe, { timeoutMs = 20_000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) {
      assert.fail(`${what} not reached within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
    }
    await sleep(intervalMs);
  }
}

export async function loadState(client, collectionName, partitionNames) {
  const request = { collection_name: collectionName };
  if (partitionNames) request.partition_names = partitionNames;
  return assertOk(await client.getLoadState(request), `GetLoadState(${collectionName})`).state;
}

// The simplest exact index Milvus offers for each vector type.
const EXACT_INDEX = {
  FloatVector: { index_type: 'FLAT', metric_type: 'L2' },
  Float16Vector: { index_type: 'FLAT', metric_type: 'L2' },
  BFloat16Vector: { index_type: 'FLAT', metric_type: 'L2' },
  BinaryVector: { index_type: 'BIN_FLAT', metric_type: 'HAMMING' },
  SparseFloatVector: { index_type: 'SPARSE_INVERTED_INDEX', metric_type: 'IP' },
};

// Milvus loads a collection only when every vector field has an index: this creates an exact
// one on each vector field that has none yet.
export async function indexVectorFields(client, collectionName) {
  const described = assertOk(await client.describeCollection({ collection_name: collectionName }),
    `DescribeCollection(${collectionName})`);
  const existing = await client.describeIndex({ collection_name: collectionName });
  const indexed = new Set((existing.index_descriptions ?? []).map((index) => index.field_name));
  for (const field of described.schema.fields) {
    const index = EXACT_INDEX[field.data_type];
    if (!index || indexed.has(field.name)) continue;
    assertOk(await client.createIndex({ collection_name: collectionName, field_name: field.name, ...index }),
      `CreateIndex(${collectionName}.${field.name})`);
  }
}

// LoadCollection is asynchronous in Milvus: it returns once accepted, and GetLoadState turns
// Loaded when the data is queryable.
export async function loadCollection(client, collectionName) {
  await indexVectorFields(client, collectionName);
  assertOk(await client.loadCollectionAsync({ collection_name: collectionName }), `LoadCollection(${collectionName})`);
  await waitFor(async () => (await loadState(client, collectionName)) === LoadState.Loaded,
    { what: `collection ${collectionName} loaded` });
}

export async function loadPartitions(client, collectionName, partitionNames) {
  await indexVectorFields(client, collectionName);
  assertOk(await client.loadPartitions({ collection_name: collectionName, partition_names: partitionNames }),
    `LoadPartitions(${partitionNames})`);
  await waitFor(async () => (await loadState(client, collectionName, partitionNames)) === LoadState.Loaded,
    { what: `partitions ${partitionNames} of ${collectionName} loaded` });
}

// Query returning the rows; fails the test on an error status.
export async function queryRows(client, collectionName, request = {}) {
  const response = await client.query({ collection_name: collectionName, consistency_level: 'Strong', ...request });
  assertOk(response, `Query(${collectionName}, ${JSON.stringify(request.filter ?? request.expr ?? '')})`);
  return response.data;
}

// count(*) through Query, Strong unless told otherwise.
export async function countRows(client, collectionName, request = {}) {
  const rows = await queryRows(client, collectionName, { filter: '', ...request, output_fields: ['count(*)'] });
  assert.equal(rows.length, 1, `count(*) answered ${rows.length} rows`);
  return Number(rows[0]['count(*)']);
}

// The PKs matching `filter`, sorted (numerically for Int64 keys, which the SDK returns as strings).
export async function queryIds(client, collectionName, filter, request = {}) {
  const rows = await queryRows(client, collectionName, { filter, output_fields: ['id'], ...request });
  return sortIds(rows.map((row) => row.id));
}

export function sortIds(ids) {
  const numeric = ids.every((id) => /^-?\d+$/.test(String(id)));
  return numeric
    ? ids.map((id) => Number(id)).sort((a, b) => a - b)
    : ids.map(String).sort();
}

export function range(start, count) {
  return Array.from({ length: count }, (_, i) => start + i);
}

// A deterministic float vector for row `i`, exactly representable in float32.
export function vectorFor(i, dim = 4) {
  return Array.from({ length: dim }, (_, j) => ((i * 7 + j * 3) % 64) / 8);
}

export function rowsWithIds(ids, dim = 4, extra = () => ({})) {
  return ids.map((id) => ({ id, vector: vectorFor(id, dim), ...extra(id) }));
}

export async function insertRows(client, collectionName, rows, request = {}) {
  const response = await client.insert({ collection_name: collectionName, data: rows, ...request });
  assertOk(response, `Insert(${collectionName}, ${rows.length} rows)`);
  assert.equal(Number(response.insert_cnt), rows.length, 'insert_cnt');
  return response;
}

// The primary keys a mutation result reports, as strings.
export function mutationIds(response) {
  const ids = response.IDs?.int_id?.data ?? response.IDs?.str_id?.data ?? [];
  return ids.map(String);
}

export async function statsRowCount(client, collectionName) {
  const response = assertOk(await client.getCollectionStatistics({ collection_name: collectionName }),
    `GetCollectionStatistics(${collectionName})`);
  const entry = response.stats.find(({ key }) => key === 'row_count');
  assert.ok(entry, `no row_count in ${JSON.stringify(response.stats)}`);
  return Number(entry.value);
}

export async function partitionRowCount(client, collectionName, partitionName) {
  const response = assertOk(await client.getPartitionStatistics({
    collection_name: collectionName, partition_name: partitionName,
  }), `GetPartitionStatistics(${partitionName})`);
  const entry = response.stats.find(({ key }) => key === 'row_count');
  assert.ok(entry, `no row_count in ${JSON.stringify(response.stats)}`);
  return Number(entry.value);
}

export async function flushSync(client, collectionName) {
  const response = await client.flushSync({ collection_names: [collectionName] });
  assertOk(response, `Flush(${collectionName})`);
  assert.equal(response.flushed, true, 'GetFlushState after Flush must report flushed');
}

// Insert with exactly these FieldData columns, bypassing the SDK's schema handling.
export function rawInsert(client, collectionName, numRows, fieldsData, request = {}) {
  return rawCall(client, 'Insert', {
    collection_name: collectionName, num_rows: numRows, fields_data: fieldsData, ...request,
  });
}

export const column = {
  int64: (name, data) => ({ type: DataType.Int64, field_name: name, scalars: { long_data: { data } } }),
  int32: (name, data) => ({ type: DataType.Int32, field_name: name, scalars: { int_data: { data } } }),
  varchar: (name, data) => ({ type: DataType.VarChar, field_name: name, scalars: { string_data: { data } } }),
  floatVector: (name, dim, rows) => ({
    type: DataType.FloatVector, field_name: name, vectors: { dim, float_vector: { data: rows.flat() } },
  }),
};

// Hybrid timestamps (physical ms << 18 | logical), as Milvus returns them in mutation results.
export function physicalMs(hybridTimestamp) {
  return Number(BigInt(hybridTimestamp) >> 18n);
}
