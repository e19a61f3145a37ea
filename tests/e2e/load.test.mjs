// Load and release of collections and partitions: GetLoadState, GetLoadingProgress, and
// Milvus's "collection not loaded" (code 101) for reads on anything not loaded. As in Milvus,
// loading needs an index on every vector field (the loadCollection helper creates FLAT ones).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startQuiver } from './harness.mjs';
import {
  Code, assertError, assertOk, createCollection, simpleFields, uniqueName,
} from './milvus.mjs';
import {
  LoadState, countRows, indexVectorFields, insertRows, loadCollection, loadPartitions, loadState, queryIds, range,
  rowsWithIds,
} from './data.mjs';

describe('load and release', { timeout: 120_000 }, () => {
  let server;
  let client;

  before(async () => {
    server = await startQuiver();
    client = await server.client();
  });
  after(() => server?.cleanup());

  async function collectionWithRows(rowCount = 20) {
    const name = uniqueName('load');
    assertOk(await createCollection(client, { collection_name: name, fields: simpleFields(4) }));
    await insertRows(client, name, rowsWithIds(range(0, rowCount)));
    return name;
  }

  // A query that must fail because nothing it reads is loaded.
  async function assertNotLoaded(name, request = {}, what = 'query') {
    const response = await client.query({ collection_name: name, filter: 'id >= 0', ...request });
    assertError(response, { code: Code.CollectionNotLoaded, reason: /not loaded/i }, what);
  }

  test('a new collection is not loaded: state NotLoad, queries and progress fail with 101', async () => {
    const name = await collectionWithRows();
    assert.equal(await loadState(client, name), LoadState.NotLoad);
    await assertNotLoaded(name, {}, 'query before load');
    await assertNotLoaded(name, { output_fields: ['count(*)'], filter: '' }, 'count(*) before load');
    const progress = await client.getLoadingProgress({ collection_name: name });
    assertError(progress, { code: Code.CollectionNotLoaded, reason: /not loaded/i }, 'GetLoadingProgress before load');
  });

  test('loading without an index on every vector field fails with index not found', async () => {
    const name = await collectionWithRows();
    const response = await client.loadCollectionAsync({ collection_name: name });
    assertError(response, { code: Code.IndexNotFound, reason: /index/i }, 'LoadCollection without an index');
    assert.equal(await loadState(client, name), LoadState.NotLoad);
  });

  test('loadCollection (the SDK waits for 100 %) makes every row queryable', async () => {
    const name = await collectionWithRows(50);
    await indexVectorFields(client, name);
    assertOk(await client.loadCollection({ collection_name: name }), 'loadCollection');
    assert.equal(await loadState(client, name), LoadState.Loaded);
    const progress = assertOk(await client.getLoadingProgress({ collection_name: name }));
    assert.equal(Number(progress.progress), 100);
    assert.equal(await countRows(client, name), 50);
  });

  test('loading twice is fine; release makes queries fail again; releasing twice is fine', async () => {
    const name = await collectionWithRows();
    await loadCollection(client, name);
    await loadCollection(client, name);
    assert.equal(await countRows(client, name), 20);

    assertOk(await client.releaseCollection({ collection_name: name }), 'release');
    assert.equal(await loadState(client, name), LoadState.NotLoad);
    await assertNotLoaded(name, {}, 'query after release');
    assertOk(await client.releaseCollection({ collection_name: name }), 'second release');

    await loadCollection(client, name);
    assert.equal(await countRows(client, name), 20, 'reloaded data');
  });

  test('rows written while released are there after the next load', async () => {
    const name = await collectionWithRows(10);
    await loadCollection(client, name);
    assertOk(await client.releaseCollection({ collection_name: name }));
    await insertRows(client, name, rowsWithIds(range(10, 10)));
    assertOk(await client.delete({ collection_name: name, ids: [0, 1] }));
    await loadCollection(client, name);
    assert.equal(await countRows(client, name), 18);
    assert.deepEqual(await queryIds(client, name, 'id < 3'), [2]);
  });

  test('load state of a missing collection, and loading it, fail with collection not found', async () => {
    const missing = uniqueName('missing');
    assertError(await client.getLoadState({ collection_name: missing }), { code: Code.CollectionNotFound }, 'GetLoadState');
    assertError(await client.loadCollectionAsync({ collection_name: missing }), { code: Code.CollectionNotFound }, 'LoadCollection');
    assertError(await client.releaseCollection({ collection_name: missing }), { code: Code.CollectionNotFound }, 'ReleaseCollection');
  });

  describe('partitions', () => {
    async function twoPartitions() {
      const name = uniqueName('load_parts');
      assertOk(await createCollection(client, { collection_name: name, fields: simpleFields(4) }));
      for (const partition of ['p1', 'p2']) {
        assertOk(await client.createPartition({ collection_name: name, partition_name: partition }));
      }
      await insertRows(client, name, rowsWithIds(range(0, 10)), { partition_name: 'p1' });
      await insertRows(client, name, rowsWithIds(range(10, 5)), { partition_name: 'p2' });
      await insertRows(client, name, rowsWithIds(range(100, 3)));
      return name;
    }

    test('loading one partition: only its rows are read; the others are not loaded', async () => {
      const name = await twoPartitions();
      await loadPartitions(client, name, ['p1']);
      assert.equal(await loadState(client, name, ['p1']), LoadState.Loaded);
      assert.equal(await loadState(client, name, ['p2']), LoadState.NotLoad);
      const progress = assertOk(await client.getLoadingProgress({ collection_name: name, partition_names: ['p1'] }));
      assert.equal(Number(progress.progress), 100);

      assert.deepEqual(await queryIds(client, name, 'id >= 0', { partition_names: ['p1'] }), range(0, 10));
      assert.deepEqual(await queryIds(client, name, 'id >= 0'), range(0, 10),
        'without partition_names a query reads the loaded partitions only');
      const other = await client.query({ collection_name: name, filter: 'id >= 0', partition_names: ['p2'] });
      assertError(other, { reason: /not loaded/i }, 'query on a partition that is not loaded');
    });

    test('loading a second partition adds its rows; releasing one removes them', async () => {
      const name = await twoPartitions();
      await loadPartitions(client, name, ['p1']);
      await loadPartitions(client, name, ['p2']);
      assert.equal(await countRows(client, name), 15);

      assertOk(await client.releasePartitions({ collection_name: name, partition_names: ['p1'] }));
      assert.equal(await loadState(client, name, ['p1']), LoadState.NotLoad);
      assert.deepEqual(await queryIds(client, name, 'id >= 0'), range(10, 5));
    });

    test('releasing the last loaded partition leaves the collection not loaded', async () => {
      const name = await twoPartitions();
      await loadPartitions(client, name, ['p2']);
      assertOk(await client.releasePartitions({ collection_name: name, partition_names: ['p2'] }));
      assert.equal(await loadState(client, name), LoadState.NotLoad);
      await assertNotLoaded(name, {}, 'query after releasing every partition');
    });

    test('loading the whole collection after one partition loads everything', async () => {
      const name = await twoPartitions();
      await loadPartitions(client, name, ['p1']);
      await loadCollection(client, name);
      assert.equal(await countRows(client, name), 18);
      assert.equal(await loadState(client, name, ['p2']), LoadState.Loaded);
    });

    test('loading a missing partition fails with partition not found and loads nothing', async () => {
      const name = await twoPartitions();
      await indexVectorFields(client, name);
      const response = await client.loadPartitions({ collection_name: name, partition_names: ['nope'] });
      assertError(response, { code: Code.PartitionNotFound, reason: /partition/i }, 'LoadPartitions(["nope"])');
      assert.equal(await loadState(client, name), LoadState.NotLoad);
    });

    test('a loaded partition cannot be dropped until it is released', async () => {
      const name = await twoPartitions();
      await loadPartitions(client, name, ['p1']);
      assertError(await client.dropPartition({ collection_name: name, partition_name: 'p1' }),
        { reason: /release|loaded/i }, 'drop a loaded partition');
      assert.equal(assertOk(await client.hasPartition({ collection_name: name, partition_name: 'p1' })).value, true);
      assert.equal(await countRows(client, name, { partition_names: ['p1'] }), 10);

      assertOk(await client.releasePartitions({ collection_name: name, partition_names: ['p1'] }));
      assertOk(await client.dropPartition({ collection_name: name, partition_name: 'p1' }));
    });

    test('inserting into a partition of a loaded collection is visible at once (Strong)', async () => {
      const name = await twoPartitions();
      await loadCollection(client, name);
      await insertRows(client, name, rowsWithIds(range(200, 4)), { partition_name: 'p2' });
      assert.equal(await countRows(client, name, { partition_names: ['p2'] }), 9);
    });
  });

  test('a loaded collection can be dropped, and a new one with its name starts unloaded', async () => {
    const name = await collectionWithRows();
    await loadCollection(client, name);
    assertOk(await client.dropCollection({ collection_name: name }));
    assertOk(await createCollection(client, { collection_name: name, fields: simpleFields(4) }));
    assert.equal(await loadState(client, name), LoadState.NotLoad);
    await assertNotLoaded(name, {}, 'query on the re-created collection');
    await loadCollection(client, name);
    assert.equal(await countRows(client, name), 0, 'the old rows must not come back');
  });
});
