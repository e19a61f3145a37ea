// Bad index and search requests get Milvus's error and change nothing: wrong query dimension,
// a metric other than the index's, unknown index types and out-of-range build or search
// parameters (Knowhere's ranges), limit outside [1, 16384], searching an unloaded collection,
// loading without an index, a second index on a field, an index on a missing field.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startQuiver } from './harness.mjs';
import { Code, DataType, assertError, assertOk, createCollection, rawCall, uniqueName } from './milvus.mjs';
import { LoadState, flushSync, insertRows, loadCollection, loadState, statsRowCount } from './data.mjs';
import { buildSearch, createIndexAndWait, randomVectors, rawSearch, searchHits, seededRandom } from './vectors.mjs';

const DIM = 8;
const ROWS = 500;
const random = seededRandom(404);
const vectors = randomVectors(ROWS + 1, DIM, random);
const query = vectors[ROWS];

describe('bad index and search input', { timeout: 60_000 }, () => {
  let server;
  let client;
  const ivf = uniqueName('bad_ivf'); // IVF_FLAT nlist 16, L2, loaded
  const hnsw = uniqueName('bad_hnsw'); // HNSW, COSINE, loaded
  const unloaded = uniqueName('bad_unloaded'); // FLAT, never loaded
  const unindexed = uniqueName('bad_unindexed'); // no index at all
  const collections = [ivf, hnsw, unloaded, unindexed];
  let baseline;
  let reference;

  async function createWithRows(name) {
    assertOk(await createCollection(client, {
      collection_name: name,
      fields: [
        { name: 'id', data_type: DataType.Int64, is_primary_key: true },
        { name: 'vector', data_type: DataType.FloatVector, dim: DIM },
        { name: 'tag', data_type: DataType.VarChar, max_length: 8 },
      ],
    }));
    await insertRows(client, name, vectors.slice(0, ROWS).map((vector, id) => ({ id, vector, tag: `t${id % 3}` })));
    await flushSync(client, name);
  }

  // Everything a bad request could have changed: indexes, load states, row counts.
  async function snapshot() {
    const state = {};
    for (const name of collections) {
      const described = await client.describeIndex({ collection_name: name });
      const indexes = described.status.error_code === 'Success'
        ? described.index_descriptions.map((index) => ({
          name: index.index_name,
          id: index.indexID,
          field: index.field_name,
          params: index.params,
          state: index.state,
          rows: [index.indexed_rows, index.total_rows],
        }))
        : `error ${described.status.code}`;
      state[name] = { indexes, load: await loadState(client, name), rows: await statsRowCount(client, name) };
    }
    return state;
  }

  const search = (name, params) => rawSearch(client, {
    collection_name: name, anns_field: 'vector', data: [query], limit: 10, output_fields: [], ...params,
  });

  // The loaded collections answer exactly as before the bad request.
  async function referenceSearches() {
    return {
      ivf: (await searchHits(client, { collection_name: ivf, data: [query], limit: 10, params: { nprobe: 16 }, output_fields: [] }))[0],
      hnsw: (await searchHits(client, { collection_name: hnsw, data: [query], limit: 10, params: { ef: 64 }, output_fields: [] }))[0],
    };
  }

  before(async () => {
    server = await startQuiver();
    client = await server.client();
    for (const name of collections) await createWithRows(name);
    await createIndexAndWait(client, ivf, { field_name: 'vector', index_type: 'IVF_FLAT', metric_type: 'L2', params: { nlist: 16 } });
    await createIndexAndWait(client, hnsw, {
      field_name: 'vector', index_type: 'HNSW', metric_type: 'COSINE', params: { M: 16, efConstruction: 64 },
    });
    await createIndexAndWait(client, unloaded, { field_name: 'vector', index_type: 'FLAT', metric_type: 'L2' });
    await loadCollection(client, ivf);
    await loadCollection(client, hnsw);
    reference = await referenceSearches();
  });
  beforeEach(async () => {
    baseline = await snapshot();
  });
  afterEach(async () => {
    assert.deepEqual(await snapshot(), baseline, 'the bad request changed indexes, load states or rows');
    assert.deepEqual(await referenceSearches(), reference, 'searches answer differently after the bad request');
  });
  after(() => server?.cleanup());

  describe('search', () => {
    test('a query vector of the wrong dimension', async () => {
      for (const dim of [DIM - 1, DIM + 1]) {
        assertError(await search(ivf, { data: [query.concat([0, 0]).slice(0, dim)], params: { nprobe: 4 } }),
          { reason: /dim/i }, `search with a ${dim}-dimensional vector`);
      }
    });

    test('a metric other than the index\'s: "metric type not match"', async () => {
      assertError(await search(ivf, { metric_type: 'IP', params: { nprobe: 4 } }),
        { reason: /metric type not match/ }, 'IP search on an L2 index');
      assertError(await search(hnsw, { metric_type: 'L2', params: { ef: 32 } }),
        { reason: /metric type not match/ }, 'L2 search on a COSINE index');
    });

    test('nprobe outside [1, 65536]', async () => {
      for (const nprobe of [0, -1, 65537]) {
        assertError(await search(ivf, { params: { nprobe } }), { reason: /nprobe/ }, `nprobe ${nprobe}`);
      }
    });

    test('nprobe above nlist is accepted: every list is probed (FAISS caps nprobe at nlist)', async () => {
      const response = assertOk(await search(ivf, { params: { nprobe: 64 } }), 'nprobe 64 on nlist 16');
      const [all] = await searchHits(client, { collection_name: ivf, data: [query], limit: 10, params: { nprobe: 16 }, output_fields: [] });
      assert.deepEqual(response.results.ids.int_id.data.map(String), all.map((hit) => hit.id));
    });

    test('ef below k (limit + offset): "ef(..) should be larger than k(..)"', async () => {
      assertError(await search(hnsw, { limit: 10, params: { ef: 5 } }), { reason: /ef\(5\) should be larger than k\(10\)/ },
        'ef 5, limit 10');
      assertError(await search(hnsw, { limit: 5, offset: 6, params: { ef: 10 } }), { reason: /ef\(10\) should be larger than k\(11\)/ },
        'ef 10, limit 5 + offset 6');
      assertOk(await search(hnsw, { limit: 10, params: { ef: 10 } }), 'ef equal to k is fine');
    });

    test('limit outside [1, 16384], and limit + offset above 16384', async () => {
      assertError(await search(ivf, { limit: 0, params: { nprobe: 4 } }), { code: Code.ParameterInvalid, reason: /16384/ }, 'limit 0');
      assertError(await search(ivf, { limit: 16385, params: { nprobe: 4 } }), { code: Code.ParameterInvalid, reason: /16384/ }, 'limit 16385');
      assertError(await search(ivf, { limit: 16000, offset: 1000, params: { nprobe: 4 } }),
        { code: Code.ParameterInvalid, reason: /16384/ }, 'limit 16000 + offset 1000');
      const all = assertOk(await search(ivf, { limit: 16384, params: { nprobe: 16 } }), 'limit 16384');
      assert.equal(all.results.scores.length, ROWS, 'a limit above the row count returns every row');
    });

    test('a search on a collection that is not loaded: code 101', async () => {
      assertError(await search(unloaded, {}), { code: Code.CollectionNotLoaded }, 'search on an unloaded collection');
      assertError(await search(unindexed, {}), { code: Code.CollectionNotLoaded }, 'search on an unindexed collection');
    });

    test('a search on a collection that does not exist: code 100', async () => {
      const { request } = await buildSearch(client, { collection_name: ivf, anns_field: 'vector', data: [query], limit: 10 });
      assertError(await rawCall(client, 'Search', { ...request, collection_name: 'no_such_collection' }),
        { code: Code.CollectionNotFound }, 'search on a missing collection');
    });

    test('round_decimal outside [-1, 6] and range parameters in the wrong order', async () => {
      assertError(await search(ivf, { params: { nprobe: 4, round_decimal: 7 } }), { reason: /round_decimal/ }, 'round_decimal 7');
      // L2: range_filter <= distance < radius, so range_filter must be below radius.
      assertError(await search(ivf, { params: { nprobe: 4, radius: 1, range_filter: 2 } }), { reason: /range_filter|radius/ },
        'L2 range_filter above radius');
      // COSINE: radius < score <= range_filter, so range_filter must be above radius.
      assertError(await search(hnsw, { params: { ef: 32, radius: 0.8, range_filter: 0.2 } }), { reason: /range_filter|radius/ },
        'COSINE range_filter below radius');
    });
  });

  describe('indexes and load', () => {
    test('loading a collection whose vector field has no index: "there is no vector index on field"', async () => {
      assertError(await client.loadCollectionAsync({ collection_name: unindexed }),
        { reason: /there is no vector index on field: \[vector\]/ }, 'LoadCollection without an index');
      assert.equal(await loadState(client, unindexed), LoadState.NotLoad);
    });

    test('an unknown index type: "invalid index type"', async () => {
      assertError(await client.createIndex({ collection_name: unindexed, field_name: 'vector', index_type: 'NOT_AN_INDEX', metric_type: 'L2' }),
        { reason: /invalid index type: NOT_AN_INDEX/ }, 'CreateIndex NOT_AN_INDEX');
    });

    test('a second, different index on an indexed field', async () => {
      const others = [
        { index_type: 'HNSW', metric_type: 'L2', params: { M: 8, efConstruction: 32 } },
        { index_type: 'IVF_FLAT', metric_type: 'L2', params: { nlist: 32 } },
        { index_type: 'IVF_FLAT', metric_type: 'IP', params: { nlist: 16 } },
      ];
      for (const other of others) {
        assertError(await client.createIndex({ collection_name: unloaded, field_name: 'vector', ...other }),
          { reason: /at most one distinct index is allowed per field/ }, `a second index ${JSON.stringify(other)}`);
      }
      assertError(await client.createIndex({ collection_name: ivf, field_name: 'vector', index_type: 'FLAT', metric_type: 'L2' }),
        { reason: /at most one distinct index is allowed per field/ }, 'a second index on a loaded collection');
    });

    test('an index on a field that does not exist', async () => {
      assertError(await client.createIndex({ collection_name: unindexed, field_name: 'nope', index_type: 'FLAT', metric_type: 'L2' }),
        { reason: /cannot create index on non-exist field: nope/ }, 'CreateIndex on a missing field');
    });

    test('build parameters outside Knowhere\'s ranges or not fitting the field', async () => {
      const bad = [
        [{ index_type: 'HNSW', metric_type: 'L2', params: { M: 1, efConstruction: 64 } }, /M/],
        [{ index_type: 'HNSW', metric_type: 'L2', params: { M: 2049, efConstruction: 64 } }, /M/],
        [{ index_type: 'HNSW', metric_type: 'L2', params: { M: 16, efConstruction: 0 } }, /efConstruction/],
        [{ index_type: 'IVF_FLAT', metric_type: 'L2', params: { nlist: 0 } }, /nlist/],
        [{ index_type: 'IVF_FLAT', metric_type: 'L2', params: { nlist: 65537 } }, /nlist/],
        [{ index_type: 'IVF_PQ', metric_type: 'L2', params: { nlist: 16, m: 3, nbits: 8 } }, /multiple|m\b/],
        [{ index_type: 'IVF_PQ', metric_type: 'L2', params: { nlist: 16, m: 4, nbits: 25 } }, /nbits/],
        [{ index_type: 'HNSW', metric_type: 'HAMMING', params: { M: 16, efConstruction: 64 } }, /metric/i],
        [{ index_type: 'FLAT', metric_type: 'NOT_A_METRIC' }, /metric/i],
        [{ index_type: 'BIN_FLAT', metric_type: 'L2' }, /BIN_FLAT|data type|binary/i],
        [{ index_type: 'BIN_IVF_FLAT', metric_type: 'HAMMING', params: { nlist: 16 } }, /BIN_IVF_FLAT|data type|binary/i],
        [{ index_type: 'SPARSE_INVERTED_INDEX', metric_type: 'IP' }, /SPARSE_INVERTED_INDEX|data type|sparse/i],
      ];
      for (const [request, reason] of bad) {
        assertError(await client.createIndex({ collection_name: unindexed, field_name: 'vector', ...request }),
          { reason }, `CreateIndex ${JSON.stringify(request)}`);
      }
    });

    test('dropping the index of a loaded collection', async () => {
      assertError(await client.dropIndex({ collection_name: ivf, field_name: 'vector' }),
        { reason: /index cannot be dropped, collection is loaded, please release it first/ }, 'DropIndex while loaded');
    });

    test('describing, watching or dropping an index that does not exist: code 700', async () => {
      assertError(await client.describeIndex({ collection_name: unindexed, field_name: 'vector' }), { code: Code.IndexNotFound });
      assertError(await client.getIndexState({ collection_name: unindexed, field_name: 'vector' }), { code: Code.IndexNotFound });
      assertError(await client.getIndexBuildProgress({ collection_name: unindexed, field_name: 'vector' }), { code: Code.IndexNotFound });
      assertError(await client.describeIndex({ collection_name: ivf, index_name: 'no_such_index' }), { code: Code.IndexNotFound });
    });
  });
});
