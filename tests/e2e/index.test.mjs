// Vector indexes through the Milvus API: every index type and metric of issue #4 with
// Milvus's parameter names is created, described (params, state, indexed/total rows),
// watched (GetIndexState, GetIndexBuildProgress), searched and dropped; and the index life
// cycle: rows flushed after CreateIndex get indexed, a loaded collection keeps its index,
// creating the same index twice is harmless, indexes are addressed by name.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startQuiver } from './harness.mjs';
import { Code, DataType, assertError, assertOk, createCollection, uniqueName } from './milvus.mjs';
import {
  LoadState, flushSync, insertRows, loadCollection, loadState, range,
} from './data.mjs';
import {
  assertRankedOrder, assertScoreClose, clusteredVectors, describeFieldIndex, exactTopK, gaussian, indexParams,
  metrics, recallWithTies, searchHits, seededRandom, waitForIndex,
} from './vectors.mjs';

const ROWS = 1200;
const SEGMENT_ROWS = 600; // two sealed segments per collection
const QUERIES = 5;
const K = 10;

// Vectors of each kind, with `count` rows and `QUERIES` queries drawn alike.
const VECTOR_KINDS = {
  float: {
    field: { data_type: DataType.FloatVector, dim: 16 },
    make: (count, random) => clusteredVectors(count, 16, { clusters: 20, random }),
  },
  // Multiples of 1/64 below 2 in magnitude are exact in float16 and bfloat16, so the values the
  // server stores are the values scored here.
  float16: {
    field: { data_type: DataType.Float16Vector, dim: 16 },
    make: (count, random) => halfPrecisionVectors(count, 16, random),
  },
  bfloat16: {
    field: { data_type: DataType.BFloat16Vector, dim: 16 },
    make: (count, random) => halfPrecisionVectors(count, 16, random),
  },
  binary: {
    field: { data_type: DataType.BinaryVector, dim: 64 },
    make: (count, random) => Array.from({ length: count }, () => Array.from({ length: 8 }, () => Math.floor(random() * 256))),
  },
  sparse: {
    field: { data_type: DataType.SparseFloatVector },
    make: (count, random) => Array.from({ length: count }, () => {
      const vector = {};
      for (let n = 0; n < 8; n++) vector[Math.floor(random() * 200)] = Math.fround(0.1 + random());
      return vector;
    }),
  },
};

function halfPrecisionVectors(count, dim, random) {
  return Array.from({ length: count }, () => Array.from({ length: dim },
    () => Math.max(-127, Math.min(127, Math.round(gaussian(random) * 32))) / 64));
}

// exact: the hits are the exact top k (scores compared, so ties do not matter).
// trueScores: each hit's score is the exact score of its row (no quantization).
// minRecall: otherwise, the share of the exact top k found.
const CASES = [
  { kind: 'float', type: 'FLAT', metric: 'L2', exact: true },
  { kind: 'float', type: 'FLAT', metric: 'IP', exact: true },
  { kind: 'float', type: 'FLAT', metric: 'COSINE', exact: true },
  { kind: 'float', type: 'IVF_FLAT', metric: 'L2', params: { nlist: 32 }, search: { nprobe: 32 }, exact: true },
  { kind: 'float', type: 'IVF_FLAT', metric: 'IP', params: { nlist: 32 }, search: { nprobe: 8 }, trueScores: true, minRecall: 0.8 },
  { kind: 'float', type: 'IVF_FLAT', metric: 'COSINE', params: { nlist: 32 }, search: { nprobe: 8 }, trueScores: true, minRecall: 0.8 },
  { kind: 'float', type: 'IVF_SQ8', metric: 'L2', params: { nlist: 32 }, search: { nprobe: 32 }, minRecall: 0.8 },
  { kind: 'float', type: 'IVF_PQ', metric: 'L2', params: { nlist: 32, m: 4, nbits: 8 }, search: { nprobe: 32 }, minRecall: 0.6 },
  { kind: 'float', type: 'HNSW', metric: 'L2', params: { M: 16, efConstruction: 100 }, search: { ef: 64 }, trueScores: true, minRecall: 0.9 },
  { kind: 'float', type: 'HNSW', metric: 'IP', params: { M: 16, efConstruction: 100 }, search: { ef: 64 }, trueScores: true, minRecall: 0.9 },
  { kind: 'float', type: 'HNSW', metric: 'COSINE', params: { M: 16, efConstruction: 100 }, search: { ef: 64 }, trueScores: true, minRecall: 0.9 },
  { kind: 'float', type: 'AUTOINDEX', metric: 'COSINE', trueScores: true, minRecall: 0.9 },
  { kind: 'float', type: 'AUTOINDEX', metric: 'L2', trueScores: true, minRecall: 0.9 },
  { kind: 'binary', type: 'BIN_FLAT', metric: 'HAMMING', exact: true },
  { kind: 'binary', type: 'BIN_FLAT', metric: 'JACCARD', exact: true },
  { kind: 'binary', type: 'BIN_IVF_FLAT', metric: 'HAMMING', params: { nlist: 16 }, search: { nprobe: 16 }, exact: true },
  { kind: 'binary', type: 'BIN_IVF_FLAT', metric: 'JACCARD', params: { nlist: 16 }, search: { nprobe: 16 }, exact: true },
  { kind: 'sparse', type: 'SPARSE_INVERTED_INDEX', metric: 'IP', search: { drop_ratio_search: 0 }, exact: true },
  { kind: 'float16', type: 'HNSW', metric: 'L2', params: { M: 16, efConstruction: 100 }, search: { ef: 64 }, trueScores: true, minRecall: 0.9 },
  { kind: 'bfloat16', type: 'HNSW', metric: 'COSINE', params: { M: 16, efConstruction: 100 }, search: { ef: 64 }, trueScores: true, minRecall: 0.9 },
  { kind: 'float16', type: 'FLAT', metric: 'IP', exact: true },
  { kind: 'bfloat16', type: 'FLAT', metric: 'L2', exact: true },
];

const pk = { name: 'id', data_type: DataType.Int64, is_primary_key: true };

describe('vector indexes', { timeout: 60_000 }, () => {
  let server;
  let client;

  before(async () => {
    server = await startQuiver();
    client = await server.client();
  });
  after(() => server?.cleanup());

  // A collection with `ROWS` rows of `kind` in two sealed segments; returns rows and queries.
  async function collectionWithRows(kind, seed) {
    const name = uniqueName(`index_${kind}`);
    assertOk(await createCollection(client, { collection_name: name, fields: [pk, { name: 'vec', ...VECTOR_KINDS[kind].field }] }));
    const random = seededRandom(seed);
    const vectors = VECTOR_KINDS[kind].make(ROWS + QUERIES, random);
    const rows = vectors.slice(0, ROWS).map((vector, id) => ({ id, vector }));
    for (let start = 0; start < ROWS; start += SEGMENT_ROWS) {
      await insertRows(client, name, rows.slice(start, start + SEGMENT_ROWS).map(({ id, vector }) => ({ id, vec: vector })));
      await flushSync(client, name);
    }
    return { name, rows, queries: vectors.slice(ROWS) };
  }

  CASES.forEach((c, n) => {
    const label = `${c.type} ${c.metric} on ${c.kind} vectors${c.params ? ` ${JSON.stringify(c.params)}` : ''}`;
    test(`${label}: create, describe, watch, search, drop`, async () => {
      const { name, rows, queries } = await collectionWithRows(c.kind, 100 + n);
      const request = { field_name: 'vec', index_type: c.type, metric_type: c.metric, params: c.params ?? {} };
      assertOk(await client.createIndex({ collection_name: name, ...request }), `CreateIndex ${label}`);

      const described = await describeFieldIndex(client, name, 'vec');
      assert.deepEqual(indexParams(described), { index_type: c.type, metric_type: c.metric, ...c.params },
        'DescribeIndex reports the parameters as created');
      assert.ok(['Unissued', 'InProgress', 'Finished'].includes(described.state), `state ${described.state}`);

      const finished = await waitForIndex(client, name, 'vec');
      assert.equal(Number(finished.total_rows), ROWS, 'total_rows');
      assert.equal(Number(finished.indexed_rows), ROWS, 'indexed_rows');
      assert.equal(Number(finished.pending_index_rows), 0, 'pending_index_rows');
      assert.equal(finished.index_state_fail_reason, '');
      const state = assertOk(await client.getIndexState({ collection_name: name, field_name: 'vec' }));
      assert.equal(state.state, 'Finished', 'GetIndexState');
      const progress = assertOk(await client.getIndexBuildProgress({ collection_name: name, field_name: 'vec' }));
      assert.deepEqual([Number(progress.indexed_rows), Number(progress.total_rows)], [ROWS, ROWS], 'GetIndexBuildProgress');

      await loadCollection(client, name);
      const perQuery = await searchHits(client, {
        collection_name: name, anns_field: 'vec', data: queries, limit: K, params: c.search ?? {}, output_fields: [],
      });
      assert.equal(perQuery.length, QUERIES);
      const { score } = metrics[c.metric];
      let found = 0;
      perQuery.forEach((hits, q) => {
        const what = `${label} query ${q}`;
        assert.equal(hits.length, K, `${what}: hit count`);
        assert.equal(new Set(hits.map((hit) => hit.id)).size, K, `${what}: a row found twice`);
        assertRankedOrder(hits, c.metric, what);
        const exact = exactTopK(rows, queries[q], K, c.metric);
        const trueScores = hits.map((hit) => score(queries[q], rows[Number(hit.id)].vector));
        if (c.exact || c.trueScores) {
          hits.forEach((hit, i) => assertScoreClose(hit.score, trueScores[i], `${what}: score of row ${hit.id}`));
        }
        if (c.exact) {
          hits.forEach((hit, i) => assertScoreClose(hit.score, exact[i].score, `${what}: exact hit ${i}`));
        }
        found += recallWithTies(trueScores, exact, c.metric);
      });
      if (!c.exact) {
        assert.ok(found / QUERIES >= c.minRecall, `${label}: recall@${K} ${found / QUERIES} below ${c.minRecall}`);
      }

      assertOk(await client.releaseCollection({ collection_name: name }));
      assertOk(await client.dropIndex({ collection_name: name, field_name: 'vec' }), `DropIndex ${label}`);
      assertError(await client.describeIndex({ collection_name: name, field_name: 'vec' }), { code: Code.IndexNotFound },
        'DescribeIndex after DropIndex');
      assertError(await client.loadCollectionAsync({ collection_name: name }), { reason: /there is no vector index on field/ },
        'LoadCollection after DropIndex');
    });
  });

  test('an index created on an empty collection covers the segments flushed later, loaded or not', async () => {
    const name = uniqueName('index_later');
    assertOk(await createCollection(client, { collection_name: name, fields: [pk, { name: 'vec', data_type: DataType.FloatVector, dim: 8 }] }));
    assertOk(await client.createIndex({
      collection_name: name, field_name: 'vec', index_type: 'HNSW', metric_type: 'L2', params: { M: 8, efConstruction: 64 },
    }));
    const empty = await waitForIndex(client, name, 'vec');
    assert.deepEqual([Number(empty.indexed_rows), Number(empty.total_rows)], [0, 0], 'an empty collection has nothing to index');

    const random = seededRandom(5);
    const rows = clusteredVectors(900, 8, { clusters: 10, random }).map((vector, id) => ({ id, vec: vector }));
    await insertRows(client, name, rows.slice(0, 300));
    await flushSync(client, name);
    let described = await waitForIndex(client, name, 'vec');
    assert.equal(Number(described.indexed_rows), 300, 'the segment flushed after CreateIndex is indexed');

    await loadCollection(client, name);
    await insertRows(client, name, rows.slice(300, 900));
    await flushSync(client, name);
    described = await waitForIndex(client, name, 'vec');
    assert.equal(Number(described.total_rows), 900);
    assert.equal(Number(described.indexed_rows), 900, 'segments flushed while loaded are indexed too');
    for (const id of [5, 450, 899]) {
      const [hits] = await searchHits(client, { collection_name: name, data: [rows[id].vec], limit: 1, params: { ef: 32 } });
      assert.equal(hits[0]?.id, String(id), `row ${id} is found by its own vector`);
    }
  });

  test('the index of a loaded collection cannot be dropped; it stays and keeps serving', async () => {
    const { name, rows } = await collectionWithRows('float', 7);
    await createIndexOn(name, { index_type: 'IVF_FLAT', metric_type: 'L2', params: { nlist: 16 } });
    await loadCollection(client, name);
    const before = await describeFieldIndex(client, name, 'vec');
    assertError(await client.dropIndex({ collection_name: name, field_name: 'vec' }),
      { reason: /index cannot be dropped, collection is loaded, please release it first/ }, 'DropIndex while loaded');
    const afterRefusal = await describeFieldIndex(client, name, 'vec');
    assert.deepEqual(indexParams(afterRefusal), indexParams(before));
    assert.equal(afterRefusal.state, 'Finished');
    assert.equal(await loadState(client, name), LoadState.Loaded);
    const [hits] = await searchHits(client, { collection_name: name, anns_field: 'vec', data: [rows[3].vector], limit: 1, params: { nprobe: 16 } });
    assert.equal(hits[0]?.id, '3');
  });

  test('creating the same index again succeeds and changes nothing', async () => {
    const { name } = await collectionWithRows('float', 8);
    const request = { index_type: 'HNSW', metric_type: 'COSINE', params: { M: 8, efConstruction: 32 } };
    const first = await createIndexOn(name, request);
    assertOk(await client.createIndex({ collection_name: name, field_name: 'vec', ...request }), 'the same CreateIndex again');
    const second = await waitForIndex(client, name, 'vec');
    assert.equal(second.indexID, first.indexID, 'still the same index');
    assert.deepEqual(indexParams(second), indexParams(first));
  });

  test('an index is addressed by its index_name in every call', async () => {
    const { name } = await collectionWithRows('float', 9);
    assertOk(await client.createIndex({
      collection_name: name, field_name: 'vec', index_name: 'my_hnsw', index_type: 'HNSW', metric_type: 'L2', params: { M: 8, efConstruction: 32 },
    }));
    await waitForIndex(client, name, 'vec');
    const byName = assertOk(await client.describeIndex({ collection_name: name, index_name: 'my_hnsw' }));
    assert.deepEqual(byName.index_descriptions.map((index) => [index.index_name, index.field_name]), [['my_hnsw', 'vec']]);
    assert.equal(assertOk(await client.getIndexState({ collection_name: name, index_name: 'my_hnsw' })).state, 'Finished');
    const progress = assertOk(await client.getIndexBuildProgress({ collection_name: name, index_name: 'my_hnsw' }));
    assert.deepEqual([Number(progress.indexed_rows), Number(progress.total_rows)], [ROWS, ROWS]);
    assertError(await client.describeIndex({ collection_name: name, index_name: 'other_name' }), { code: Code.IndexNotFound },
      'DescribeIndex of a name that does not exist');
    assertOk(await client.dropIndex({ collection_name: name, index_name: 'my_hnsw' }));
    assertError(await client.describeIndex({ collection_name: name, index_name: 'my_hnsw' }), { code: Code.IndexNotFound });
  });

  test('DescribeIndex without a field lists the index of every field', async () => {
    const name = uniqueName('index_two_fields');
    assertOk(await createCollection(client, {
      collection_name: name,
      fields: [pk, { name: 'dense', data_type: DataType.FloatVector, dim: 8 }, { name: 'bits', data_type: DataType.BinaryVector, dim: 16 }],
    }));
    await insertRows(client, name, range(0, 100).map((id) => ({ id, dense: new Array(8).fill(id / 100), bits: [id % 256, 1] })));
    await flushSync(client, name);
    assertOk(await client.createIndex({ collection_name: name, field_name: 'dense', index_type: 'FLAT', metric_type: 'IP' }));
    assertOk(await client.createIndex({ collection_name: name, field_name: 'bits', index_type: 'BIN_FLAT', metric_type: 'JACCARD' }));
    await waitForIndex(client, name, 'dense');
    await waitForIndex(client, name, 'bits');
    const all = assertOk(await client.describeIndex({ collection_name: name }));
    const summary = all.index_descriptions.map((index) => [index.field_name, indexParams(index).index_type, indexParams(index).metric_type]);
    assert.deepEqual(summary.sort(), [['bits', 'BIN_FLAT', 'JACCARD'], ['dense', 'FLAT', 'IP']]);
  });

  test('watching a build: state and progress only move forward and end Finished with every row', async () => {
    const name = uniqueName('index_watch');
    assertOk(await createCollection(client, { collection_name: name, fields: [pk, { name: 'vec', data_type: DataType.FloatVector, dim: 32 }] }));
    const random = seededRandom(12);
    const vectors = clusteredVectors(8000, 32, { clusters: 40, random });
    for (let start = 0; start < vectors.length; start += 4000) {
      await insertRows(client, name, range(start, 4000).map((id) => ({ id, vec: vectors[id] })));
      await flushSync(client, name);
    }
    assertOk(await client.createIndex({
      collection_name: name, field_name: 'vec', index_type: 'HNSW', metric_type: 'L2', params: { M: 16, efConstruction: 200 },
    }));
    const order = ['Unissued', 'InProgress', 'Finished'];
    const seen = [];
    let lastIndexed = 0;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { state } = assertOk(await client.getIndexState({ collection_name: name, field_name: 'vec' }));
      const progress = assertOk(await client.getIndexBuildProgress({ collection_name: name, field_name: 'vec' }));
      assert.ok(order.includes(state), `unexpected state ${state}`);
      if (seen.length) assert.ok(order.indexOf(state) >= order.indexOf(seen.at(-1)), `state went back: ${[...seen, state]}`);
      if (seen.at(-1) !== state) seen.push(state);
      const indexed = Number(progress.indexed_rows);
      assert.equal(Number(progress.total_rows), 8000, 'total_rows');
      assert.ok(indexed >= lastIndexed && indexed <= 8000, `indexed_rows went from ${lastIndexed} to ${indexed}`);
      lastIndexed = indexed;
      if (state === 'Finished') break;
      assert.ok(Date.now() < deadline, `build not finished after 30 s (states ${seen})`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(lastIndexed, 8000, 'Finished means every row indexed');
  });

  async function createIndexOn(name, request) {
    assertOk(await client.createIndex({ collection_name: name, field_name: 'vec', ...request }));
    return waitForIndex(client, name, 'vec');
  }
});
