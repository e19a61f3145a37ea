// Aliases: create/describe/list/alter/drop, using a collection through its alias, and the
// conflicts Milvus refuses.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startQuiver } from './harness.mjs';
import {
  Code, assertError, assertOk, createCollection, describe as describeCollection, describeSnapshot,
  listCollectionNames, rawCall, simpleFields, uniqueName,
} from './milvus.mjs';

describe('aliases', () => {
  let server;
  let client;

  before(async () => {
    server = await startQuiver();
    client = await server.client();
  });
  after(() => server?.cleanup());

  async function newCollection(dbName) {
    const name = uniqueName('aliased');
    assertOk(await createCollection(client, {
      collection_name: name, fields: simpleFields(), ...(dbName ? { db_name: dbName } : {}),
    }));
    return name;
  }

  async function aliasesOf(collectionName, dbName) {
    const request = { collection_name: collectionName, ...(dbName ? { db_name: dbName } : {}) };
    return [...assertOk(await client.listAliases(request)).aliases].sort();
  }

  async function aliasTarget(alias, dbName) {
    // The SDK insists on a collection_name here although DescribeAlias ignores it.
    const request = { alias, collection_name: 'ignored', ...(dbName ? { db_name: dbName } : {}) };
    return assertOk(await client.describeAlias(request), `DescribeAlias(${alias})`);
  }

  test('create, describe and list an alias', async () => {
    const name = await newCollection();
    const alias = uniqueName('alias');
    assertOk(await client.createAlias({ collection_name: name, alias }));

    const described = await aliasTarget(alias);
    assert.equal(described.alias, alias);
    assert.equal(described.collection, name);
    assert.equal(described.db_name, 'default');
    assert.deepEqual(await aliasesOf(name), [alias]);

    const second = uniqueName('alias');
    assertOk(await client.createAlias({ collection_name: name, alias: second }));
    assert.deepEqual(await aliasesOf(name), [alias, second].sort());
    const everyAlias = assertOk(await rawCall(client, 'ListAliases', { collection_name: '' }));
    assert.ok(everyAlias.aliases.includes(alias) && everyAlias.aliases.includes(second),
      'ListAliases without a collection lists every alias of the database');
    assert.ok(!(await listCollectionNames(client)).includes(alias), 'aliases are not collections');
  });

  test('a collection can be described and checked through its alias', async () => {
    const name = await newCollection();
    const alias = uniqueName('alias');
    assertOk(await client.createAlias({ collection_name: name, alias }));

    const direct = await describeCollection(client, name);
    const viaAlias = await describeCollection(client, alias);
    assert.equal(viaAlias.collectionID, direct.collectionID);
    assert.equal(viaAlias.schema.name, name);
    assert.deepEqual(direct.aliases, [alias]);
    assert.equal(assertOk(await client.hasCollection({ collection_name: alias })).value, true);
    assert.equal(assertOk(await rawCall(client, 'HasCollection', { collection_name: alias })).value, true);
  });

  test('alter moves an alias to another collection', async () => {
    const first = await newCollection();
    const second = await newCollection();
    const alias = uniqueName('alias');
    assertOk(await client.createAlias({ collection_name: first, alias }));

    assertOk(await client.alterAlias({ collection_name: second, alias }));
    assert.equal((await aliasTarget(alias)).collection, second);
    assert.equal((await describeCollection(client, alias)).collectionID,
      (await describeCollection(client, second)).collectionID);
    assert.deepEqual(await aliasesOf(first), []);
    assert.deepEqual(await aliasesOf(second), [alias]);
  });

  test('alter of an unknown alias or onto a missing collection fails and changes nothing', async () => {
    const name = await newCollection();
    const alias = uniqueName('alias');
    assertOk(await client.createAlias({ collection_name: name, alias }));

    assertError(await client.alterAlias({ collection_name: name, alias: uniqueName('ghost') }),
      { code: Code.AliasNotFound });
    assertError(await client.alterAlias({ collection_name: uniqueName('missing'), alias }),
      { code: Code.CollectionNotFound });
    assert.equal((await aliasTarget(alias)).collection, name);
  });

  test('drop removes the alias, not the collection', async () => {
    const name = await newCollection();
    const alias = uniqueName('alias');
    assertOk(await client.createAlias({ collection_name: name, alias }));

    assertOk(await client.dropAlias({ alias }));
    assertError(await client.describeAlias({ alias, collection_name: name }), { code: Code.AliasNotFound });
    assertError(await client.describeCollection({ collection_name: alias }), { code: Code.CollectionNotFound });
    assert.deepEqual(await aliasesOf(name), []);
    await describeCollection(client, name);
  });

  test('describing an unknown alias reports alias not found', async () => {
    assertError(await client.describeAlias({ alias: uniqueName('ghost'), collection_name: 'ignored' }),
      { code: Code.AliasNotFound });
  });

  test('an alias cannot take the name of an existing collection', async () => {
    const name = await newCollection();
    const other = await newCollection();
    const otherBefore = await describeSnapshot(client, other);
    assertError(await client.createAlias({ collection_name: name, alias: other }),
      { code: Code.AliasCollectionNameConflict });
    assert.deepEqual(await describeSnapshot(client, other), otherBefore);
    assert.deepEqual(await aliasesOf(name), []);
  });

  test('a collection cannot take the name of an existing alias', async () => {
    const name = await newCollection();
    const alias = uniqueName('alias');
    assertOk(await client.createAlias({ collection_name: name, alias }));
    const before = await listCollectionNames(client);
    assertError(await createCollection(client, { collection_name: alias, fields: simpleFields(4) }),
      { code: Code.AliasCollectionNameConflict });
    assert.deepEqual(await listCollectionNames(client), before);
    assert.equal((await aliasTarget(alias)).collection, name);
  });

  test('re-creating an alias for its collection is a no-op; for another collection it fails', async () => {
    const name = await newCollection();
    const other = await newCollection();
    const alias = uniqueName('alias');
    assertOk(await client.createAlias({ collection_name: name, alias }));
    assertOk(await client.createAlias({ collection_name: name, alias }));
    assertError(await client.createAlias({ collection_name: other, alias }), { code: Code.AliasAlreadyExist });
    assert.equal((await aliasTarget(alias)).collection, name);
    assert.deepEqual(await aliasesOf(other), []);
  });

  test('an alias for a missing collection or with an invalid name is refused', async () => {
    const name = await newCollection();
    const alias = uniqueName('alias');
    assertError(await client.createAlias({ collection_name: uniqueName('missing'), alias }),
      { code: Code.CollectionNotFound });
    for (const bad of ['1alias', 'bad-alias', 'x'.repeat(256)]) {
      assertError(await client.createAlias({ collection_name: name, alias: bad }),
        { code: Code.ParameterInvalid }, `CreateAlias(${bad.slice(0, 20)})`);
    }
    assert.deepEqual(await aliasesOf(name), []);
    assertError(await client.describeAlias({ alias, collection_name: name }), { code: Code.AliasNotFound });
  });

  test('a collection with aliases cannot be dropped until they are', async () => {
    const name = await newCollection();
    const alias = uniqueName('alias');
    assertOk(await client.createAlias({ collection_name: name, alias }));
    const before = await describeSnapshot(client, name);

    assertError(await client.dropCollection({ collection_name: name }), { reason: /alias/i });
    assert.deepEqual(await describeSnapshot(client, name), before);
    assert.equal((await aliasTarget(alias)).collection, name);

    assertOk(await client.dropAlias({ alias }));
    assertOk(await client.dropCollection({ collection_name: name }));
    assert.ok(!(await listCollectionNames(client)).includes(name));
  });

  test('aliases belong to a database', async () => {
    const db = uniqueName('alias_db');
    assertOk(await client.createDatabase({ db_name: db }));
    const name = await newCollection(db);
    const alias = uniqueName('alias');
    assertOk(await client.createAlias({ collection_name: name, alias, db_name: db }));

    assert.equal((await aliasTarget(alias, db)).collection, name);
    assert.equal((await aliasTarget(alias, db)).db_name, db);
    assertError(await client.describeAlias({ alias, collection_name: name }), { code: Code.AliasNotFound },
      'the alias is not visible from default');
    assert.deepEqual(await aliasesOf(name, db), [alias]);

    // The same alias name is free in another database.
    const local = await newCollection();
    assertOk(await client.createAlias({ collection_name: local, alias }));
    assert.equal((await aliasTarget(alias)).collection, local);
    assert.equal((await aliasTarget(alias, db)).collection, name);
  });
});
