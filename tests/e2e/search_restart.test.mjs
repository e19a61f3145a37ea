// Indexes survive restarts: an index built before a SIGTERM or a SIGKILL is loaded from object
// storage afterwards, not rebuilt (no new "built ... index" line in the server log, and
// DescribeIndex reports Finished from the first call), and searches answer exactly as before,
// right after the collection is loaded again. A build cut short by a crash is finished after
// the restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startQuiver } from './harness.mjs';
import { DataType, assertOk, createCollection, uniqueName } from './milvus.mjs';
import { LoadState, flushSync, insertRows, loadCollection, loadState, range, waitFor } from './data.mjs';
import { clusteredVectors, createIndexAndWait, describeFieldIndex, searchHits, seededRandom, waitForIndex } from './vectors.mjs';

const DIM = 16;
const ROWS = 3000;
const BUILT_LINE = /built \S+ index of segment/g;

const random = seededRandom(606);
const vectors = clusteredVectors(ROWS + 5, DIM, { clusters: 30, random });
const queries = vectors.slice(ROWS);

const INDEXES = {
  hnsw: { index: { index_type: 'HNSW', metric_type: 'L2', params: { M: 16, efConstruction: 100 } }, search: { ef: 32 } },
  ivf: { index: { index_type: 'IVF_FLAT', metric_type: 'COSINE', params: { nlist: 32 } }, search: { nprobe: 4 } },
};

describe('indexes across restarts', { timeout: 60_000 }, () => {
  let server;

  before(async () => {
    server = await startQuiver();
  });
  after(() => server?.cleanup());

  const builtLines = (text) => (text.match(BUILT_LINE) ?? []).length;

  // A collection of ROWS rows in two sealed segments with `kind`'s index, built to the end.
  async function indexedCollection(client, kind) {
    const name = uniqueName(`restart_${kind}`);
    assertOk(await createCollection(client, {
      collection_name: name,
      fields: [
        { name: 'id', data_type: DataType.Int64, is_primary_key: true },
        { name: 'vec', data_type: DataType.FloatVector, dim: DIM },
      ],
    }));
    for (const start of [0, ROWS / 2]) {
      await insertRows(client, name, range(start, ROWS / 2).map((id) => ({ id, vec: vectors[id] })));
      await flushSync(client, name);
    }
    await createIndexAndWait(client, name, { field_name: 'vec', ...INDEXES[kind].index });
    return name;
  }

  const searchAll = (client, name, kind) => searchHits(client, {
    collection_name: name, anns_field: 'vec', data: queries, limit: 10, params: INDEXES[kind].search, output_fields: [],
  });

  for (const [how, stop] of [['SIGTERM', (s) => s.stop()], ['SIGKILL', (s) => s.kill9()]]) {
    test(`${how}: indexes load from object storage, no rebuild, same answers`, async () => {
      let client = await server.client();
      const loaded = await indexedCollection(client, 'hnsw'); // loaded when the server stops
      const released = await indexedCollection(client, 'ivf'); // loaded again only after the restart
      await loadCollection(client, loaded);
      await loadCollection(client, released);
      const expected = {
        [loaded]: await searchAll(client, loaded, 'hnsw'),
        [released]: await searchAll(client, released, 'ivf'),
      };
      assertOk(await client.releaseCollection({ collection_name: released }));
      const buildsBefore = builtLines(server.output());
      assert.ok(buildsBefore >= 4, `expected the 4 segment builds in the log, saw ${buildsBefore}`);

      await stop(server);
      const logBefore = server.output().length;
      await server.restart();
      client = await server.client();
      const logSinceRestart = () => server.output().slice(logBefore);

      for (const name of [loaded, released]) {
        const described = await describeFieldIndex(client, name, 'vec');
        assert.equal(described.state, 'Finished', `${name}: index state right after the restart`);
        assert.deepEqual([Number(described.indexed_rows), Number(described.total_rows)], [ROWS, ROWS]);
      }
      await waitFor(async () => (await loadState(client, loaded)) === LoadState.Loaded, { what: `${loaded} loaded again` });
      assert.deepEqual(await searchAll(client, loaded, 'hnsw'), expected[loaded], 'answers of the collection loaded across the restart');
      await loadCollection(client, released);
      assert.deepEqual(await searchAll(client, released, 'ivf'), expected[released], 'answers after loading again');

      assert.equal(builtLines(logSinceRestart()), 0, `indexes were rebuilt after the restart:\n${logSinceRestart().match(/.*built .*/g)}`);
      assert.equal((await describeFieldIndex(client, loaded, 'vec')).state, 'Finished');
    });
  }

  test('a build cut short by SIGKILL is finished after the restart', async () => {
    let client = await server.client();
    const name = uniqueName('restart_interrupted');
    assertOk(await createCollection(client, {
      collection_name: name,
      fields: [
        { name: 'id', data_type: DataType.Int64, is_primary_key: true },
        { name: 'vec', data_type: DataType.FloatVector, dim: 32 },
      ],
    }));
    const big = clusteredVectors(10_000, 32, { clusters: 50, random: seededRandom(607) });
    for (let start = 0; start < big.length; start += 2000) {
      await insertRows(client, name, range(start, 2000).map((id) => ({ id, vec: big[id] })));
    }
    await flushSync(client, name);
    assertOk(await client.createIndex({
      collection_name: name, field_name: 'vec', index_type: 'HNSW', metric_type: 'L2', params: { M: 32, efConstruction: 400 },
    }));
    await server.kill9();
    await server.restart();
    client = await server.client();
    const described = await waitForIndex(client, name, 'vec');
    assert.equal(Number(described.indexed_rows), big.length, 'every row indexed after the restart');
    await loadCollection(client, name);
    const [hits] = await searchHits(client, { collection_name: name, anns_field: 'vec', data: [big[1234]], limit: 1, params: { ef: 64 } });
    assert.equal(hits[0]?.id, '1234');
  });
});
