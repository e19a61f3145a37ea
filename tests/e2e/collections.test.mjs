// Collection lifecycle through the SDK: create with full schemas, describe, has, list,
// rename (also into another database), alter properties, statistics and drop.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startQuiver } from './harness.mjs';
import {
  Code, DataType, assertError, assertOk, createCollection, describe as describeCollection,
  describeSnapshot, listCollectionNames, propertyMap, rawCall, simpleFields, uniqueName,
} from './milvus.mjs';

// Fields as a user declares them, with what describe must report back for each.
const int64Fields = [
  { spec: { name: 'id', data_type: DataType.Int64, is_primary_key: true, autoID: true, description: 'row id' },
    type: 'Int64', params: {} },
  { spec: { name: 'dense', data_type: DataType.FloatVector, dim: 8 }, type: 'FloatVector', params: { dim: '8' } },
  { spec: { name: 'half', data_type: DataType.Float16Vector, dim: 16 }, type: 'Float16Vector', params: { dim: '16' } },
  { spec: { name: 'brain', data_type: DataType.BFloat16Vector, dim: 32 }, type: 'BFloat16Vector', params: { dim: '32' } },
  { spec: { name: 'bits', data_type: DataType.BinaryVector, dim: 64 }, type: 'BinaryVector', params: { dim: '64' } },
  { spec: { name: 'flag', data_type: DataType.Bool, default_value: true }, type: 'Bool', params: {}, default: true },
  { spec: { name: 'tiny', data_type: DataType.Int8, default_value: 3 }, type: 'Int8', params: {}, default: 3 },
  { spec: { name: 'small', data_type: DataType.Int16, nullable: true }, type: 'Int16', params: {}, nullable: true },
  { spec: { name: 'medium', data_type: DataType.Int32 }, type: 'Int32', params: {} },
  { spec: { name: 'big', data_type: DataType.Int64, default_value: 5 }, type: 'Int64', params: {}, default: '5' },
  { spec: { name: 'ratio', data_type: DataType.Float, default_value: 1.5 }, type: 'Float', params: {}, default: 1.5 },
  { spec: { name: 'score', data_type: DataType.Double, nullable: true }, type: 'Double', params: {}, nullable: true },
  { spec: { name: 'title', data_type: DataType.VarChar, max_length: 128, default_value: 'none', description: 'a title' },
    type: 'VarChar', params: { max_length: '128' }, default: 'none' },
  { spec: { name: 'meta', data_type: DataType.JSON, nullable: true }, type: 'JSON', params: {}, nullable: true },
  { spec: { name: 'counts', data_type: DataType.Array, element_type: DataType.Int32, max_capacity: 10 },
    type: 'Array', element: 'Int32', params: { max_capacity: '10' } },
  { spec: { name: 'tags', data_type: DataType.Array, element_type: DataType.VarChar, max_capacity: 5, max_length: 32 },
    type: 'Array', element: 'VarChar', params: { max_capacity: '5', max_length: '32' } },
];

const varcharFields = [
  { spec: { name: 'pk', data_type: DataType.VarChar, is_primary_key: true, max_length: 64 },
    type: 'VarChar', params: { max_length: '64' } },
  { spec: { name: 'sparse', data_type: DataType.SparseFloatVector }, type: 'SparseFloatVector', params: {} },
  { spec: { name: 'emb', data_type: DataType.FloatVector, dim: 4 }, type: 'FloatVector', params: { dim: '4' } },
  { spec: { name: 'tenant', data_type: DataType.VarChar, max_length: 32, is_partition_key: true },
    type: 'VarChar', params: { max_length: '32' }, partitionKey: true },
];

function assertFieldsMatch(actualFields, expectedFields) {
  assert.deepEqual(actualFields.map((f) => f.name), expectedFields.map((f) => f.spec.name),
    'describe must list exactly the declared fields, in order (no $meta or system fields)');
  const ids = new Set();
  for (const [i, expected] of expectedFields.entries()) {
    const actual = actualFields[i];
    const where = `field ${expected.spec.name}`;
    assert.equal(actual.data_type, expected.type, `${where}: data type`);
    assert.equal(actual.element_type, expected.element ?? 'None', `${where}: element type`);
    assert.deepEqual(Object.fromEntries(actual.type_params.map(({ key, value }) => [key, value])), expected.params,
      `${where}: type params`);
    assert.equal(actual.is_primary_key, Boolean(expected.spec.is_primary_key), `${where}: primary key flag`);
    assert.equal(actual.autoID, Boolean(expected.spec.autoID), `${where}: autoID`);
    assert.equal(Boolean(actual.nullable), Boolean(expected.nullable), `${where}: nullable`);
    assert.equal(Boolean(actual.is_partition_key), Boolean(expected.partitionKey), `${where}: partition key flag`);
    assert.equal(actual.default_value ?? null, expected.default ?? null, `${where}: default value`);
    assert.equal(actual.description, expected.spec.description ?? '', `${where}: description`);
    assert.ok(Number(actual.fieldID) >= 100, `${where}: user field IDs start at 100, got ${actual.fieldID}`);
    ids.add(actual.fieldID);
  }
  assert.equal(ids.size, expectedFields.length, 'field IDs must be unique');
}

// created_timestamp is a hybrid TSO (physical ms << 18 | logical); created_utc_timestamp its ms part.
function assertCreatedAround(response, startedMs) {
  const physical = Number(BigInt(response.created_timestamp) >> 18n);
  assert.equal(String(physical), String(response.created_utc_timestamp), 'UTC timestamp is the TSO physical part');
  assert.ok(physical >= startedMs - 5_000 && physical <= Date.now() + 5_000,
    `created at ${new Date(physical).toISOString()}, expected around now`);
}

describe('collections', () => {
  let server;
  let client;

  before(async () => {
    server = await startQuiver();
    client = await server.client();
  });
  after(() => server?.cleanup());

  test('Int64 primary key with every vector and scalar type, as declared', async () => {
    const name = uniqueName('full_int64');
    const started = Date.now();
    assertOk(await createCollection(client, {
      collection_name: name,
      description: 'every field type',
      fields: int64Fields.map((f) => f.spec),
      enable_dynamic_field: true,
      shards_num: 2,
      consistency_level: 'Session',
      properties: { 'collection.ttl.seconds': 3600 },
    }));

    const info = await describeCollection(client, name);
    assert.equal(info.schema.name, name);
    assert.equal(info.schema.description, 'every field type');
    assert.equal(info.schema.enable_dynamic_field, true);
    assertFieldsMatch(info.schema.fields, int64Fields);
    assert.equal(info.shards_num, 2);
    assert.equal(info.consistency_level, 'Session');
    assert.equal(info.db_name, 'default');
    assert.notEqual(info.collectionID, '0');
    assert.equal(propertyMap(info.properties)['collection.ttl.seconds'], '3600');
    assert.deepEqual(info.aliases, []);
    assertCreatedAround(info, started);
  });

  test('VarChar primary key, sparse vector and a partition key', async () => {
    const name = uniqueName('full_varchar');
    assertOk(await createCollection(client, {
      collection_name: name,
      fields: varcharFields.map((f) => f.spec),
      num_partitions: 8,
      consistency_level: 'Strong',
    }));

    const info = await describeCollection(client, name);
    assertFieldsMatch(info.schema.fields, varcharFields);
    assert.equal(info.schema.enable_dynamic_field, false);
    assert.equal(info.consistency_level, 'Strong');
    assert.equal(info.num_partitions, '8');
    assert.equal(info.shards_num, 1, 'Milvus defaults to one shard');
  });

  test('the SDK\'s quick form creates an id primary key and a vector field', async () => {
    const name = uniqueName('quick');
    try {
      await client.createCollection({ collection_name: name, dimension: 16 });
    } catch (error) {
      // The quick form goes on to CreateIndex and LoadCollection, which come with later milestones.
      assert.match(String(error?.message ?? error?.reason), /not implemented|unimplemented/i);
    }
    const info = await describeCollection(client, name);
    const [id, vector] = info.schema.fields;
    assert.deepEqual(info.schema.fields.map((f) => f.name), ['id', 'vector']);
    assert.equal(id.data_type, 'Int64');
    assert.equal(id.is_primary_key, true);
    assert.equal(id.autoID, false);
    assert.equal(vector.data_type, 'FloatVector');
    assert.equal(vector.dim, '16');
    assert.equal(info.schema.enable_dynamic_field, true);
  });

  test('has, list and describe by ID agree with create', async () => {
    const name = uniqueName('listed');
    assertOk(await createCollection(client, { collection_name: name, fields: simpleFields() }));
    const info = await describeCollection(client, name);

    assert.equal(assertOk(await client.hasCollection({ collection_name: name })).value, true);
    assert.equal(assertOk(await rawCall(client, 'HasCollection', { collection_name: name })).value, true);
    assert.equal(assertOk(await rawCall(client, 'HasCollection', { collection_name: `${name}_nope` })).value, false);

    const listed = assertOk(await client.showCollections());
    const index = listed.collection_names.indexOf(name);
    assert.ok(index >= 0, `${name} not listed`);
    assert.equal(listed.collection_ids[index], info.collectionID);
    assert.equal(listed.created_utc_timestamps[index], info.created_utc_timestamp);

    const byId = assertOk(await rawCall(client, 'DescribeCollection', { collectionID: info.collectionID }));
    assert.equal(byId.schema.name, name);
  });

  test('rename keeps the collection ID; the old name is gone', async () => {
    const name = uniqueName('before');
    const renamed = uniqueName('after');
    assertOk(await createCollection(client, { collection_name: name, fields: simpleFields() }));
    const { collectionID } = await describeCollection(client, name);

    assertOk(await client.renameCollection({ collection_name: name, new_collection_name: renamed }));
    const info = await describeCollection(client, renamed);
    assert.equal(info.collectionID, collectionID);
    assert.equal(info.schema.name, renamed);
    assertError(await client.describeCollection({ collection_name: name }), { code: Code.CollectionNotFound });
    const names = await listCollectionNames(client);
    assert.ok(names.includes(renamed) && !names.includes(name), `listed: ${names}`);
  });

  test('rename into another database moves the collection there', async () => {
    const db = uniqueName('target_db');
    const name = uniqueName('mover');
    const moved = uniqueName('moved');
    assertOk(await client.createDatabase({ db_name: db }));
    assertOk(await createCollection(client, { collection_name: name, fields: simpleFields() }));
    const { collectionID } = await describeCollection(client, name);

    assertOk(await client.renameCollection({ collection_name: name, new_collection_name: moved, new_db_name: db }));
    const info = await describeCollection(client, moved, db);
    assert.equal(info.collectionID, collectionID);
    assert.equal(info.db_name, db);
    assert.deepEqual(await listCollectionNames(client, db), [moved]);
    assert.ok(!(await listCollectionNames(client)).includes(name));
    assertError(await client.describeCollection({ collection_name: moved }), { code: Code.CollectionNotFound },
      'the moved collection is not in default');
  });

  test('rename onto an existing name fails and changes nothing', async () => {
    const first = uniqueName('first');
    const second = uniqueName('second');
    for (const name of [first, second]) {
      assertOk(await createCollection(client, { collection_name: name, fields: simpleFields() }));
    }
    const snapshot = async () => [await describeSnapshot(client, first), await describeSnapshot(client, second)];
    const before = await snapshot();
    assertError(await client.renameCollection({ collection_name: first, new_collection_name: second }));
    assert.deepEqual(await snapshot(), before);
  });

  test('alter properties shows in describe; dropping a property removes it', async () => {
    const name = uniqueName('altered');
    assertOk(await createCollection(client, {
      collection_name: name, fields: simpleFields(), properties: { 'collection.ttl.seconds': 60 },
    }));

    assertOk(await client.alterCollectionProperties({
      collection_name: name, properties: { 'collection.ttl.seconds': 7200, 'mmap.enabled': true },
    }));
    let properties = propertyMap((await describeCollection(client, name)).properties);
    assert.equal(properties['collection.ttl.seconds'], '7200');
    assert.equal(properties['mmap.enabled'], 'true');

    assertOk(await client.alterCollection({ collection_name: name, properties: { 'collection.ttl.seconds': 30 } }));
    properties = propertyMap((await describeCollection(client, name)).properties);
    assert.equal(properties['collection.ttl.seconds'], '30');
    assert.equal(properties['mmap.enabled'], 'true', 'altering one key keeps the others');

    assertOk(await client.dropCollectionProperties({ collection_name: name, properties: ['mmap.enabled'] }));
    properties = propertyMap((await describeCollection(client, name)).properties);
    assert.equal(properties['mmap.enabled'], undefined);
    assert.equal(properties['collection.ttl.seconds'], '30');
  });

  test('statistics report zero rows', async () => {
    const name = uniqueName('stats');
    assertOk(await createCollection(client, { collection_name: name, fields: simpleFields() }));
    const stats = assertOk(await client.getCollectionStatistics({ collection_name: name }));
    assert.equal(stats.data.row_count, '0');
    assertError(await client.getCollectionStatistics({ collection_name: `${name}_nope` }),
      { code: Code.CollectionNotFound });
  });

  test('drop removes the collection everywhere', async () => {
    const name = uniqueName('dropped');
    const keeper = uniqueName('keeper');
    for (const n of [name, keeper]) {
      assertOk(await createCollection(client, { collection_name: n, fields: simpleFields() }));
    }
    const keeperBefore = await describeSnapshot(client, keeper);
    const { collectionID: droppedId } = await describeCollection(client, name);

    assertOk(await client.dropCollection({ collection_name: name }));
    assert.equal(assertOk(await client.hasCollection({ collection_name: name })).value, false);
    assertError(await client.describeCollection({ collection_name: name }), { code: Code.CollectionNotFound });
    const names = await listCollectionNames(client);
    assert.ok(!names.includes(name) && names.includes(keeper));
    assert.deepEqual(await describeSnapshot(client, keeper), keeperBefore, 'other collections untouched');

    // The name is free again and gets a new collection ID.
    assertOk(await createCollection(client, { collection_name: name, fields: simpleFields(16) }));
    const recreated = await describeCollection(client, name);
    assert.equal(recreated.schema.fields[1].dim, '16');
    assert.notEqual(recreated.collectionID, droppedId);
  });
});
