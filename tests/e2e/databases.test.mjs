// Databases: create/list/describe/drop, the permanent `default` database, and collections
// scoped per database through the client's database option, useDatabase() and per-call db_name.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startQuiver } from './harness.mjs';
import {
  Code, assertError, assertOk, createCollection, describe as describeCollection,
  listCollectionNames, listDatabaseNames, rawCall, simpleFields, uniqueName,
} from './milvus.mjs';

describe('databases', () => {
  let server;
  let client;

  before(async () => {
    server = await startQuiver();
    client = await server.client();
  });
  after(() => server?.cleanup());

  test('default exists from the start', async () => {
    assert.ok((await listDatabaseNames(client)).includes('default'));
    const described = assertOk(await client.describeDatabase({ db_name: 'default' }));
    assert.equal(described.db_name, 'default');
  });

  test('create, list, describe and drop', async () => {
    const db = uniqueName('db');
    const started = Date.now();
    assertOk(await client.createDatabase({ db_name: db }));

    const listed = assertOk(await client.listDatabases());
    const index = listed.db_names.indexOf(db);
    assert.ok(index >= 0, `${db} not listed`);
    const described = assertOk(await client.describeDatabase({ db_name: db }));
    assert.equal(described.db_name, db);
    assert.notEqual(String(described.dbID), '0');
    assert.equal(String(listed.db_ids[index]), String(described.dbID));
    const createdMs = Number(BigInt(described.created_timestamp) >> 18n);
    assert.ok(createdMs >= started - 5_000 && createdMs <= Date.now() + 5_000,
      `created_timestamp ${described.created_timestamp} is not a hybrid timestamp of now`);

    assertOk(await client.dropDatabase({ db_name: db }));
    assert.ok(!(await listDatabaseNames(client)).includes(db));
    assertError(await client.describeDatabase({ db_name: db }), { code: Code.DatabaseNotFound });
  });

  test('database properties are kept', async () => {
    const db = uniqueName('db_props');
    assertOk(await client.createDatabase({ db_name: db, properties: { 'database.max.collections': 7 } }));
    const described = assertOk(await client.describeDatabase({ db_name: db }));
    const properties = Object.fromEntries(described.properties.map(({ key, value }) => [key, value]));
    assert.equal(properties['database.max.collections'], '7');
  });

  test('creating an existing database fails and changes nothing', async () => {
    const db = uniqueName('db_dup');
    assertOk(await client.createDatabase({ db_name: db }));
    const before = assertOk(await client.describeDatabase({ db_name: db }));
    const names = await listDatabaseNames(client);
    assertError(await client.createDatabase({ db_name: db }), { reason: /exist/i });
    assertError(await client.createDatabase({ db_name: 'default' }), { reason: /exist/i });
    assert.deepEqual(await listDatabaseNames(client), names);
    assert.equal(assertOk(await client.describeDatabase({ db_name: db })).dbID, before.dbID);
  });

  test('invalid database names are refused', async () => {
    const names = await listDatabaseNames(client);
    for (const bad of ['', '1db', 'bad-name', 'with space', 'x'.repeat(256)]) {
      assertError(await rawCall(client, 'CreateDatabase', { db_name: bad }),
        { code: Code.DatabaseInvalidName }, `CreateDatabase("${bad.slice(0, 20)}")`);
    }
    assert.deepEqual(await listDatabaseNames(client), names);
  });

  test('default cannot be dropped', async () => {
    assertError(await client.dropDatabase({ db_name: 'default' }), { reason: /default/i });
    assert.ok((await listDatabaseNames(client)).includes('default'));
  });

  test('collections are scoped to their database', async () => {
    const db = uniqueName('db_scope');
    const shared = uniqueName('shared');
    assertOk(await client.createDatabase({ db_name: db }));
    const dbClient = await server.client({ database: db });

    // The same name in two databases: two different collections.
    assertOk(await createCollection(dbClient, { collection_name: shared, fields: simpleFields(4) }));
    assertOk(await createCollection(client, { collection_name: shared, fields: simpleFields(8) }));
    const inDb = await describeCollection(dbClient, shared);
    const inDefault = await describeCollection(client, shared);
    assert.notEqual(inDb.collectionID, inDefault.collectionID);
    assert.equal(inDb.db_name, db);
    assert.equal(inDefault.db_name, 'default');
    assert.equal(inDb.schema.fields[1].dim, '4');
    assert.equal(inDefault.schema.fields[1].dim, '8');

    const onlyInDb = uniqueName('only_in_db');
    assertOk(await createCollection(dbClient, { collection_name: onlyInDb, fields: simpleFields() }));
    assert.deepEqual(await listCollectionNames(dbClient), [onlyInDb, shared].sort());
    assert.ok(!(await listCollectionNames(client)).includes(onlyInDb));
    assertError(await client.describeCollection({ collection_name: onlyInDb }), { code: Code.CollectionNotFound });

    // Per-call db_name wins over the client's database.
    assert.deepEqual(await listCollectionNames(client, db), [onlyInDb, shared].sort());
    assert.equal((await describeCollection(client, onlyInDb, db)).db_name, db);
    assert.equal((await describeCollection(dbClient, shared, 'default')).collectionID, inDefault.collectionID);

    // useDatabase switches an existing client.
    const switching = await server.client();
    await switching.useDatabase({ db_name: db });
    assert.deepEqual(await listCollectionNames(switching), [onlyInDb, shared].sort());
    assert.equal((await describeCollection(switching, shared)).collectionID, inDb.collectionID);
  });

  test('a database with collections cannot be dropped', async () => {
    const db = uniqueName('db_busy');
    const name = uniqueName('resident');
    assertOk(await client.createDatabase({ db_name: db }));
    assertOk(await createCollection(client, { collection_name: name, fields: simpleFields(), db_name: db }));

    assertError(await client.dropDatabase({ db_name: db }), { reason: /not empty|collection/i });
    assert.ok((await listDatabaseNames(client)).includes(db));
    assert.deepEqual(await listCollectionNames(client, db), [name]);

    assertOk(await client.dropCollection({ collection_name: name, db_name: db }));
    assertOk(await client.dropDatabase({ db_name: db }));
    assert.ok(!(await listDatabaseNames(client)).includes(db));
  });

  test('an unknown database is reported as such', async () => {
    const missing = uniqueName('no_such_db');
    const names = await listDatabaseNames(client);
    assertError(await client.describeDatabase({ db_name: missing }), { code: Code.DatabaseNotFound });
    assertError(await client.showCollections({ db_name: missing }), { code: Code.DatabaseNotFound });
    assertError(await createCollection(client, {
      collection_name: uniqueName('orphan'), fields: simpleFields(), db_name: missing,
    }), { code: Code.DatabaseNotFound });

    const lostClient = await server.client({ database: missing });
    assertError(await lostClient.showCollections(), { code: Code.DatabaseNotFound }, 'client on a missing database');
    assert.deepEqual(await listDatabaseNames(client), names);
  });

  test('a dropped database can be created again, empty', async () => {
    const db = uniqueName('db_again');
    assertOk(await client.createDatabase({ db_name: db }));
    const { dbID } = assertOk(await client.describeDatabase({ db_name: db }));
    assertOk(await client.dropDatabase({ db_name: db }));
    assertOk(await client.createDatabase({ db_name: db }));
    const again = assertOk(await client.describeDatabase({ db_name: db }));
    assert.notEqual(String(again.dbID), String(dbID));
    assert.deepEqual(await listCollectionNames(client, db), []);
  });
});
