// Durability: every database, collection, partition and alias acknowledged before a SIGKILL
// (or a clean SIGTERM) is there, unchanged, after a restart on the same data directory.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startQuiver } from './harness.mjs';
import {
  DataType, assertOk, createCollection, describeSnapshot, rawCall, simpleFields,
} from './milvus.mjs';

// Everything a user can read back, keyed by name so that listing order does not matter.
async function captureState(client) {
  const state = {};
  const databases = assertOk(await client.listDatabases());
  for (const db of [...databases.db_names].sort()) {
    const described = assertOk(await client.describeDatabase({ db_name: db }));
    const collections = {};
    const listed = assertOk(await client.showCollections({ db_name: db }));
    for (const [i, name] of listed.collection_names.entries()) {
      const info = await describeSnapshot(client, name, db);
      const partitions = assertOk(await client.showPartitions({ collection_name: name, db_name: db }));
      collections[name] = {
        listedId: listed.collection_ids[i],
        listedCreated: listed.created_utc_timestamps[i],
        describe: { ...info, aliases: [...info.aliases].sort() },
        partitions: Object.fromEntries(partitions.partition_names.map((partition, j) => [
          partition, { id: partitions.partitionIDs[j], created: partitions.created_utc_timestamps[j] }])),
      };
    }
    const aliases = {};
    const aliasList = assertOk(await rawCall(client, 'ListAliases', { db_name: db, collection_name: '' }));
    for (const alias of aliasList.aliases) {
      aliases[alias] = assertOk(await client.describeAlias({ alias, collection_name: 'ignored', db_name: db })).collection;
    }
    state[db] = {
      dbID: String(described.dbID),
      created: String(described.created_timestamp),
      properties: described.properties,
      collections,
      aliases,
    };
  }
  return state;
}

function allCollectionIds(state) {
  return Object.values(state).flatMap((db) => Object.values(db.collections).map((c) => c.describe.collectionID));
}

function latestCreation(state) {
  return Object.values(state)
    .flatMap((db) => Object.values(db.collections).map((c) => BigInt(c.describe.created_timestamp)))
    .reduce((a, b) => (a > b ? a : b), 0n);
}

describe('restart', () => {
  let server;
  let stateBeforeCrash;

  before(async () => {
    server = await startQuiver();
  });
  after(() => server?.cleanup());

  test('build databases, collections, partitions and aliases, then SIGKILL', async () => {
    const client = await server.client();
    for (const db of ['sales', 'support']) assertOk(await client.createDatabase({ db_name: db, properties: { 'database.max.collections': 50 } }));

    assertOk(await createCollection(client, {
      collection_name: 'products',
      description: 'catalog',
      enable_dynamic_field: true,
      consistency_level: 'Session',
      shards_num: 2,
      properties: { 'collection.ttl.seconds': 86400 },
      fields: [
        { name: 'sku', data_type: DataType.VarChar, is_primary_key: true, max_length: 32 },
        { name: 'embedding', data_type: DataType.FloatVector, dim: 8 },
        { name: 'thumb', data_type: DataType.BinaryVector, dim: 16 },
        { name: 'price', data_type: DataType.Double, nullable: true },
        { name: 'stock', data_type: DataType.Int32, default_value: 0 },
        { name: 'tags', data_type: DataType.Array, element_type: DataType.VarChar, max_capacity: 4, max_length: 12 },
        { name: 'attrs', data_type: DataType.JSON },
      ],
    }));
    for (const partition of ['spring', 'summer', 'autumn']) {
      assertOk(await client.createPartition({ collection_name: 'products', partition_name: partition }));
    }
    assertOk(await client.dropPartition({ collection_name: 'products', partition_name: 'autumn' }));
    assertOk(await client.createAlias({ collection_name: 'products', alias: 'catalog' }));
    assertOk(await client.createAlias({ collection_name: 'products', alias: 'items' }));
    assertOk(await client.alterCollectionProperties({ collection_name: 'products', properties: { 'mmap.enabled': false } }));

    assertOk(await createCollection(client, {
      collection_name: 'orders', db_name: 'sales', num_partitions: 4,
      fields: [...simpleFields(4), { name: 'region', data_type: DataType.VarChar, max_length: 8, is_partition_key: true }],
    }));
    assertOk(await createCollection(client, { collection_name: 'draft', db_name: 'sales', fields: simpleFields() }));
    assertOk(await client.renameCollection({ collection_name: 'draft', new_collection_name: 'invoices', db_name: 'sales' }));
    assertOk(await client.createAlias({ collection_name: 'invoices', alias: 'bills', db_name: 'sales' }));
    assertOk(await client.createAlias({ collection_name: 'orders', alias: 'temp_alias', db_name: 'sales' }));
    assertOk(await client.alterAlias({ collection_name: 'invoices', alias: 'temp_alias', db_name: 'sales' }));

    assertOk(await createCollection(client, { collection_name: 'tickets', db_name: 'support', fields: simpleFields(16) }));
    assertOk(await createCollection(client, { collection_name: 'scratch', db_name: 'support', fields: simpleFields() }));
    assertOk(await client.dropCollection({ collection_name: 'scratch', db_name: 'support' }));
    assertOk(await client.createPartition({ collection_name: 'tickets', partition_name: 'urgent', db_name: 'support' }));
    assertOk(await createCollection(client, { collection_name: 'moved', fields: simpleFields() }));
    assertOk(await client.renameCollection({ collection_name: 'moved', new_collection_name: 'archive', new_db_name: 'support' }));
    assertOk(await client.createDatabase({ db_name: 'temporary' }));
    assertOk(await client.dropDatabase({ db_name: 'temporary' }));

    // The last acknowledged write right before the crash must survive too.
    assertOk(await client.createPartition({ collection_name: 'tickets', partition_name: 'last_write', db_name: 'support' }));
    const { partitionIDs } = assertOk(await client.showPartitions({ collection_name: 'tickets', db_name: 'support' }));
    stateBeforeCrash = await captureState(client);
    assert.equal(Object.keys(stateBeforeCrash.support.collections.tickets.partitions).length, partitionIDs.length);

    assert.deepEqual(Object.keys(stateBeforeCrash), ['default', 'sales', 'support']);
    assert.deepEqual(Object.keys(stateBeforeCrash.sales.collections).sort(), ['invoices', 'orders']);
    assert.deepEqual(stateBeforeCrash.sales.aliases, { bills: 'invoices', temp_alias: 'invoices' });

    await server.kill9();
  });

  test('after SIGKILL and restart, everything is back exactly as it was', async () => {
    await server.restart();
    const client = await server.client();
    assert.deepEqual(await captureState(client), stateBeforeCrash);
  });

  test('after the restart, new IDs and timestamps do not collide with old ones', async () => {
    const client = await server.client();
    assertOk(await createCollection(client, { collection_name: 'after_crash', fields: simpleFields() }));
    assertOk(await client.createPartition({ collection_name: 'after_crash', partition_name: 'fresh' }));
    assertOk(await client.createDatabase({ db_name: 'after_crash_db' }));
    const state = await captureState(client);

    const oldIds = allCollectionIds(stateBeforeCrash);
    const created = state.default.collections.after_crash;
    assert.ok(!oldIds.includes(created.describe.collectionID), 'collection ID reused after restart');
    const oldPartitionIds = Object.values(stateBeforeCrash)
      .flatMap((db) => Object.values(db.collections).flatMap((c) => Object.values(c.partitions).map((p) => p.id)));
    for (const { id } of Object.values(created.partitions)) {
      assert.ok(!oldPartitionIds.includes(id), `partition ID ${id} reused after restart`);
    }
    const oldDbIds = Object.values(stateBeforeCrash).map((db) => db.dbID);
    assert.ok(!oldDbIds.includes(state.after_crash_db.dbID), 'database ID reused after restart');
    assert.ok(BigInt(created.describe.created_timestamp) > latestCreation(stateBeforeCrash),
      'timestamps must keep increasing across a restart');
  });

  test('after SIGTERM and restart, everything is back exactly as it was', async () => {
    const before = await captureState(await server.client());
    assert.equal(await server.stop(), 0, `exit code after SIGTERM\n${server.output()}`);
    await server.restart();
    assert.deepEqual(await captureState(await server.client()), before);
  });
});
