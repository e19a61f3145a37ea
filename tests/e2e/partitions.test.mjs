// Partitions: the _default partition, create/has/show/drop, and partition-key collections.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startQuiver } from './harness.mjs';
import {
  Code, DataType, assertError, assertOk, createCollection, describe as describeCollection,
  listPartitionNames, rawCall, simpleFields, uniqueName,
} from './milvus.mjs';

describe('partitions', () => {
  let server;
  let client;

  before(async () => {
    server = await startQuiver();
    client = await server.client();
  });
  after(() => server?.cleanup());

  async function newCollection() {
    const name = uniqueName('parts');
    assertOk(await createCollection(client, { collection_name: name, fields: simpleFields() }));
    return name;
  }

  async function partitionIds(collectionName) {
    const response = assertOk(await client.showPartitions({ collection_name: collectionName }));
    return Object.fromEntries(response.partition_names.map((name, i) => [name, response.partitionIDs[i]]));
  }

  test('a new collection has exactly the _default partition', async () => {
    const name = await newCollection();
    const shown = assertOk(await client.showPartitions({ collection_name: name }));
    assert.deepEqual(shown.partition_names, ['_default']);
    assert.notEqual(shown.partitionIDs[0], '0');
    assert.equal(assertOk(await client.hasPartition({ collection_name: name, partition_name: '_default' })).value, true);
  });

  test('create, has, show and drop', async () => {
    const name = await newCollection();
    assertOk(await client.createPartition({ collection_name: name, partition_name: 'p1' }));
    assertOk(await client.createPartition({ collection_name: name, partition_name: 'p2' }));
    assert.deepEqual(await listPartitionNames(client, name), ['_default', 'p1', 'p2']);
    const ids = await partitionIds(name);
    assert.equal(new Set(Object.values(ids)).size, 3, `partition IDs must be distinct: ${JSON.stringify(ids)}`);

    assert.equal(assertOk(await client.hasPartition({ collection_name: name, partition_name: 'p1' })).value, true);
    assert.equal(assertOk(await client.hasPartition({ collection_name: name, partition_name: 'p9' })).value, false);

    assertOk(await client.dropPartition({ collection_name: name, partition_name: 'p1' }));
    assert.equal(assertOk(await client.hasPartition({ collection_name: name, partition_name: 'p1' })).value, false);
    assert.deepEqual(await partitionIds(name), { _default: ids._default, p2: ids.p2 });
  });

  test('creating an existing partition again is a no-op (Milvus is idempotent here)', async () => {
    const name = await newCollection();
    assertOk(await client.createPartition({ collection_name: name, partition_name: 'twice' }));
    const before = await partitionIds(name);
    assertOk(await client.createPartition({ collection_name: name, partition_name: 'twice' }));
    assert.deepEqual(await partitionIds(name), before);
  });

  test('the _default partition cannot be dropped', async () => {
    const name = await newCollection();
    const before = await partitionIds(name);
    assertError(await client.dropPartition({ collection_name: name, partition_name: '_default' }),
      { reason: /default partition/i });
    assert.deepEqual(await partitionIds(name), before);
  });

  test('invalid partition names are rejected and nothing is created', async () => {
    const name = await newCollection();
    for (const bad of ['', 'has space', 'bad!char', 'x'.repeat(256)]) {
      assertError(await rawCall(client, 'CreatePartition', { collection_name: name, partition_name: bad }),
        { reason: /partition name/i }, `CreatePartition("${bad.slice(0, 20)}")`);
    }
    assert.deepEqual(await listPartitionNames(client, name), ['_default']);
  });

  test('partition names may start with a digit (unlike collection names)', async () => {
    const name = await newCollection();
    assertOk(await client.createPartition({ collection_name: name, partition_name: '2024_q1' }));
    assert.deepEqual(await listPartitionNames(client, name), ['2024_q1', '_default']);
  });

  test('partition calls on a missing collection report collection not found', async () => {
    const missing = uniqueName('missing');
    assertError(await client.createPartition({ collection_name: missing, partition_name: 'p' }),
      { code: Code.CollectionNotFound });
    assertError(await client.showPartitions({ collection_name: missing }), { code: Code.CollectionNotFound });
    assertError(await client.hasPartition({ collection_name: missing, partition_name: '_default' }),
      { code: Code.CollectionNotFound });
  });

  test('partitions are per collection', async () => {
    const first = await newCollection();
    const second = await newCollection();
    assertOk(await client.createPartition({ collection_name: first, partition_name: 'only_here' }));
    assert.deepEqual(await listPartitionNames(client, second), ['_default']);
    const firstIds = Object.values(await partitionIds(first));
    const secondIds = Object.values(await partitionIds(second));
    assert.ok(!secondIds.some((id) => firstIds.includes(id)), 'partition IDs are unique across collections');
  });

  test('a partition-key collection has num_partitions partitions and refuses manual ones', async () => {
    const name = uniqueName('pkey');
    assertOk(await createCollection(client, {
      collection_name: name,
      num_partitions: 4,
      fields: [
        ...simpleFields(),
        { name: 'tenant', data_type: DataType.Int64, is_partition_key: true },
      ],
    }));
    const before = await listPartitionNames(client, name);
    assert.deepEqual(before, ['_default_0', '_default_1', '_default_2', '_default_3']);
    assert.equal((await describeCollection(client, name)).num_partitions, '4');

    assertError(await client.createPartition({ collection_name: name, partition_name: 'manual' }),
      { reason: /partition key/i });
    assertError(await client.dropPartition({ collection_name: name, partition_name: '_default_0' }),
      { reason: /partition key/i });
    assert.deepEqual(await listPartitionNames(client, name), before);
  });

  test('a partition key without num_partitions gets Milvus\'s default of 16 partitions', async () => {
    const name = uniqueName('pkey_default');
    assertOk(await createCollection(client, {
      collection_name: name,
      fields: [...simpleFields(), { name: 'tenant', data_type: DataType.VarChar, max_length: 16, is_partition_key: true }],
    }));
    assert.equal((await listPartitionNames(client, name)).length, 16);
  });
});
