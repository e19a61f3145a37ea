// HybridSearch: ANN requests on two vector fields fused by RRFRanker (score = sum of
// 1 / (k + rank), rank counted from 1) and WeightedRanker, with limit, offset, per-request
// filters and output fields. The expected fusion is computed here from the same server's
// plain Search answers for each request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RRFRanker, WeightedRanker } from '@zilliz/milvus2-sdk-node';
import { startQuiver } from './harness.mjs';
import { DataType, assertOk, createCollection, uniqueName } from './milvus.mjs';
import { flushSync, insertRows, loadCollection, range } from './data.mjs';
import {
  assertRankedOrder, assertScoreClose, createIndexAndWait, ids, randomVectors, searchHits, seededRandom,
} from './vectors.mjs';

const DIM = 8;
const random = seededRandom(77);
const A = randomVectors(1001, DIM, random);
const B = randomVectors(1001, DIM, random);
const [queryA, queryB] = [randomVectors(1, DIM, random)[0], randomVectors(1, DIM, random)[0]];
// Row 1000 is both queries themselves: the best row of both requests.
A[1000] = queryA;
B[1000] = queryB;
const rows = range(0, 1001).map((id) => ({ id, dense_a: A[id], dense_b: B[id], tag: `t${id % 3}` }));

describe('hybrid search', { timeout: 60_000 }, () => {
  let server;
  let client;
  const name = uniqueName('hybrid');

  // The two ANN requests of every hybrid search here.
  const requestA = (extra = {}) => ({ anns_field: 'dense_a', data: queryA, ...extra });
  const requestB = (extra = {}) => ({ anns_field: 'dense_b', data: queryB, params: { ef: 64 }, ...extra });

  before(async () => {
    server = await startQuiver();
    client = await server.client();
    assertOk(await createCollection(client, {
      collection_name: name,
      fields: [
        { name: 'id', data_type: DataType.Int64, is_primary_key: true },
        { name: 'dense_a', data_type: DataType.FloatVector, dim: DIM },
        { name: 'dense_b', data_type: DataType.FloatVector, dim: DIM },
        { name: 'tag', data_type: DataType.VarChar, max_length: 8 },
      ],
    }));
    await insertRows(client, name, rows.slice(0, 800));
    await flushSync(client, name);
    await createIndexAndWait(client, name, { field_name: 'dense_a', index_type: 'FLAT', metric_type: 'COSINE' });
    await createIndexAndWait(client, name, {
      field_name: 'dense_b', index_type: 'HNSW', metric_type: 'IP', params: { M: 16, efConstruction: 100 },
    });
    await loadCollection(client, name);
    await insertRows(client, name, rows.slice(800)); // growing rows take part too
  });
  after(() => server?.cleanup());

  // What each request finds on its own, through plain Search.
  async function singleSearch(request, limit) {
    const { anns_field: field, data, params = {}, expr } = request;
    const [hits] = await searchHits(client, {
      collection_name: name, anns_field: field, data: [data], limit, params, filter: expr, output_fields: [],
    });
    return hits;
  }

  async function hybrid(requests, options) {
    const [hits] = await searchHits(client, { collection_name: name, data: requests, output_fields: [], ...options });
    return hits;
  }

  // RRF: each row scores the sum over the lists holding it of 1 / (k + its rank there).
  function rrfFusion(lists, k) {
    const fused = new Map();
    for (const list of lists) {
      list.forEach((hit, i) => fused.set(hit.id, (fused.get(hit.id) ?? 0) + 1 / (k + i + 1)));
    }
    return [...fused].map(([id, score]) => ({ id, score })).sort((x, y) => y.score - x.score);
  }

  // Scores may tie (same rank in different lists), so compare scores in order and each hit's
  // own expected score rather than the order of tied ids.
  function assertFusion(hits, expected, what) {
    assert.equal(hits.length, expected.length, `${what}: hit count`);
    const expectedScore = new Map(expected.map((hit) => [hit.id, hit.score]));
    hits.forEach((hit, i) => {
      assertScoreClose(hit.score, expected[i].score, `${what}: score of hit ${i}`, 1e-5);
      assert.ok(expectedScore.has(hit.id), `${what}: row ${hit.id} is not among the fused candidates`);
      assertScoreClose(hit.score, expectedScore.get(hit.id), `${what}: fused score of row ${hit.id}`, 1e-5);
    });
  }

  for (const k of [60, 10]) {
    test(`RRFRanker(k=${k}) fuses the two lists by reciprocal rank`, async () => {
      const limit = 10;
      const lists = [await singleSearch(requestA(), limit), await singleSearch(requestB(), limit)];
      const hits = await hybrid([requestA(), requestB()], { rerank: RRFRanker(k), limit });
      assertFusion(hits, rrfFusion(lists, k).slice(0, limit), `RRF k=${k}`);
      assert.equal(hits[0].id, '1000', 'the row best in both lists ranks first');
      assertScoreClose(hits[0].score, 2 / (k + 1), 'RRF score of a row first in both lists', 1e-5);
      assertRankedOrder(hits, 'IP', `RRF k=${k}`);
    });
  }

  test('no ranker given: the SDK asks for RRF with k=60', async () => {
    const limit = 8;
    const lists = [await singleSearch(requestA(), limit), await singleSearch(requestB(), limit)];
    const hits = await hybrid([requestA(), requestB()], { limit });
    assertFusion(hits, rrfFusion(lists, 60).slice(0, limit), 'default ranker');
  });

  // metric_type may be left out of a request (the index's is used) or given explicitly.
  for (const explicit of [false, true]) {
    const how = explicit ? 'metric_type given per request' : "metric_type left to the index's";
    const withMetric = (request, metric) => (explicit ? { ...request, metric_type: metric } : request);
    const weightedA = () => withMetric(requestA(), 'COSINE');
    const weightedB = () => withMetric(requestB(), 'IP');

    test(`WeightedRanker (${how}): the row best in both ranks first; weights 1/0 keep one request's order`, async () => {
      const limit = 10;
      const hits = await hybrid([weightedA(), weightedB()], { rerank: WeightedRanker([0.5, 0.5]), limit });
      assert.equal(hits.length, limit);
      assert.equal(hits[0].id, '1000', 'the row best in both lists ranks first');
      assertRankedOrder(hits, 'IP', 'weighted');

      const onlyA = await hybrid([weightedA(), weightedB()], { rerank: WeightedRanker([1, 0]), limit: 5 });
      assert.deepEqual(ids(onlyA), ids(await singleSearch(requestA(), 5)), 'weights [1, 0]: the order of the first request');
      const onlyB = await hybrid([weightedA(), weightedB()], { rerank: WeightedRanker([0, 1]), limit: 5 });
      assert.deepEqual(ids(onlyB), ids(await singleSearch(requestB(), 5)), 'weights [0, 1]: the order of the second request');

      // Fusion only reorders what the requests found.
      const lists = [await singleSearch(requestA(), limit), await singleSearch(requestB(), limit)];
      const candidates = new Set([...ids(lists[0]), ...ids(lists[1])]);
      const skewed = await hybrid([weightedA(), weightedB()], { rerank: WeightedRanker([0.9, 0.1]), limit });
      for (const hit of skewed) assert.ok(candidates.has(hit.id), `weighted hit ${hit.id} was found by neither request`);
    });
  }

  test('limit and offset page through the fused list', async () => {
    const all = await hybrid([requestA(), requestB()], { rerank: RRFRanker(60), limit: 10 });
    const page = await hybrid([requestA(), requestB()], { rerank: RRFRanker(60), limit: 4, offset: 3 });
    assert.deepEqual(page.map((hit) => hit.score), all.slice(3, 7).map((hit) => hit.score));
    const small = await hybrid([requestA(), requestB()], { rerank: RRFRanker(60), limit: 3 });
    assert.equal(small.length, 3);
  });

  test('each request keeps its own filter; output fields come back for every hit', async () => {
    const filtered = requestA({ expr: 'tag == "t1"' });
    const limit = 10;
    const lists = [await singleSearch(filtered, limit), await singleSearch(requestB(), limit)];
    for (const hit of lists[0]) assert.equal(rows[Number(hit.id)].tag, 't1');
    const [hits] = await searchHits(client, {
      collection_name: name, data: [filtered, requestB()], rerank: RRFRanker(60), limit, output_fields: ['tag', 'dense_a'],
    });
    assertFusion(hits, rrfFusion(lists, 60).slice(0, limit), 'filtered RRF');
    for (const hit of hits) {
      const row = rows[Number(hit.id)];
      assert.equal(hit.tag, row.tag, `tag of ${hit.id}`);
      assert.deepEqual(hit.dense_a, row.dense_a, `dense_a of ${hit.id}`);
    }
  });

  test("the SDK's hybridSearch call answers the same hits", async () => {
    const response = await client.hybridSearch({
      collection_name: name,
      data: [requestA(), requestB()],
      rerank: RRFRanker(60),
      limit: 5,
      output_fields: ['id', 'tag'],
      consistency_level: 'Strong',
    });
    assertOk(response, 'hybridSearch');
    const viaRaw = await hybrid([requestA(), requestB()], { rerank: RRFRanker(60), limit: 5 });
    assert.deepEqual(response.results.map((hit) => hit.score), viaRaw.map((hit) => hit.score));
    assert.equal(String(response.results[0].id), '1000');
    assert.equal(response.results[0].tag, rows[1000].tag);
  });
});
