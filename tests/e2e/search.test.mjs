// Search as Milvus documents it, checked against exact answers computed here: several query
// vectors at once, limit + offset, filters, output fields (dynamic keys and `*`), partitions,
// round_decimal, range search, grouping, consistency levels, deletes, growing data, and the
// score conventions of each metric. FLAT is exact, so the expected hits are exact too.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startQuiver } from './harness.mjs';
import { DataType, assertOk, createCollection, uniqueName } from './milvus.mjs';
import { flushSync, insertRows, loadCollection, range, waitFor } from './data.mjs';
import {
  assertRankedOrder, assertScoreClose, createIndexAndWait, exactTopK, ids, normalized, randomVectors,
  searchHits, seededRandom,
} from './vectors.mjs';

const DIM = 8;
const COLORS = ['red', 'green', 'blue'];
const PARTITION_B = 'part_b';
const VECTORS = randomVectors(1700, DIM, seededRandom(7));
const QUERIES = randomVectors(3, DIM, seededRandom(8));

// Row `id`; ids 1000..1499 live in PARTITION_B, 1500.. are inserted after load (growing).
function makeRow(id) {
  const row = { id, vector: VECTORS[id], category: id % 10, tag: `t${id % 4}`, weight: id / 2 };
  if (id % 2 === 0) row.color = COLORS[id % 3];
  return row;
}
const ROWS = range(0, 1700).map(makeRow);
const candidates = (predicate = () => true) => ROWS.filter(predicate).map(({ id, vector }) => ({ id, vector }));

// A dynamic key comes back under its own name when asked for by name, inside $meta with `*`.
const dynamicValue = (hit, key) => hit[key] ?? hit.$meta?.[key];

// Hits must be exactly `expected` (ids in order, scores within float32 precision).
function assertExactHits(hits, expected, what) {
  assert.deepEqual(ids(hits), ids(expected), `${what}: ids`);
  hits.forEach((hit, i) => assertScoreClose(hit.score, expected[i].score, `${what}: hit ${i}`));
}

describe('search', { timeout: 60_000 }, () => {
  let server;
  let client;
  const name = uniqueName('search_l2');

  const search = (params, extra) => searchHits(client, { collection_name: name, anns_field: 'vector', ...params }, extra);

  before(async () => {
    server = await startQuiver();
    client = await server.client();
    assertOk(await createCollection(client, {
      collection_name: name,
      enable_dynamic_field: true,
      fields: [
        { name: 'id', data_type: DataType.Int64, is_primary_key: true },
        { name: 'vector', data_type: DataType.FloatVector, dim: DIM },
        { name: 'category', data_type: DataType.Int64 },
        { name: 'tag', data_type: DataType.VarChar, max_length: 8 },
      ],
    }));
    assertOk(await client.createPartition({ collection_name: name, partition_name: PARTITION_B }));
    // Two sealed segments in the default partition, one in PARTITION_B, growing rows after load.
    await insertRows(client, name, ROWS.slice(0, 500));
    await flushSync(client, name);
    await insertRows(client, name, ROWS.slice(500, 1000));
    await insertRows(client, name, ROWS.slice(1000, 1500), { partition_name: PARTITION_B });
    await flushSync(client, name);
    await createIndexAndWait(client, name, { field_name: 'vector', index_type: 'FLAT', metric_type: 'L2' });
    await loadCollection(client, name);
    await insertRows(client, name, ROWS.slice(1500));
  });
  after(() => server?.cleanup());

  test('several query vectors at once: the exact top-k of each, L2 distances ascending', async () => {
    const perQuery = await search({ data: QUERIES, limit: 10, output_fields: [] });
    assert.equal(perQuery.length, QUERIES.length, 'one list of hits per query vector');
    perQuery.forEach((hits, q) => {
      assertExactHits(hits, exactTopK(candidates(), QUERIES[q], 10, 'L2'), `query ${q}`);
      assertRankedOrder(hits, 'L2', `query ${q}`);
    });
  });

  test('limit + offset skips the best `offset` hits', async () => {
    const [best] = await search({ data: [QUERIES[0]], limit: 15 });
    const [page] = await search({ data: [QUERIES[0]], limit: 5, offset: 10 });
    assert.deepEqual(ids(page), ids(best).slice(10, 15));
    const [firstPage] = await search({ data: [QUERIES[0]], limit: 10, offset: 0 });
    assert.deepEqual(ids(firstPage), ids(best).slice(0, 10));
  });

  test('a filter: every hit matches it, and they are the exact best among the matching rows', async () => {
    const cases = [
      ['category in [1, 3] and tag == "t1"', (r) => [1, 3].includes(r.category) && r.tag === 't1'],
      ['color == "red"', (r) => r.color === 'red'],
      ['id >= 1500', (r) => r.id >= 1500], // only growing rows
      ['weight < 20', (r) => r.weight < 20],
    ];
    for (const [filter, predicate] of cases) {
      const [hits] = await search({ data: [QUERIES[1]], limit: 10, filter, output_fields: ['category', 'tag', 'color'] });
      assertExactHits(hits, exactTopK(candidates(predicate), QUERIES[1], 10, 'L2'), filter);
    }
    const [none] = await search({ data: [QUERIES[1]], limit: 10, filter: 'id < 0' });
    assert.deepEqual(none, [], 'a filter no row matches finds nothing');
  });

  test('output_fields: named fields and dynamic keys, nothing else', async () => {
    const [hits] = await search({ data: [QUERIES[2]], limit: 10, output_fields: ['tag', 'color', 'weight'] });
    assert.equal(hits.length, 10);
    for (const hit of hits) {
      const row = ROWS[Number(hit.id)];
      assert.equal(hit.tag, row.tag, `tag of ${hit.id}`);
      assert.equal(dynamicValue(hit, 'color'), row.color, `dynamic key color of ${hit.id}`);
      assert.equal(dynamicValue(hit, 'weight'), row.weight, `dynamic key weight of ${hit.id}`);
      assert.equal(hit.vector, undefined, 'a field not asked for is not returned');
      assert.equal(hit.category, undefined, 'a field not asked for is not returned');
    }
  });

  test('output_fields ["*"]: every field, the vector and the dynamic keys', async () => {
    const [hits] = await search({ data: [QUERIES[2]], limit: 5, output_fields: ['*'] });
    assert.equal(hits.length, 5);
    for (const hit of hits) {
      const row = ROWS[Number(hit.id)];
      assert.equal(Number(hit.category), row.category);
      assert.equal(hit.tag, row.tag);
      assert.deepEqual(hit.vector, row.vector, `vector of ${hit.id}`);
      assert.equal(dynamicValue(hit, 'color'), row.color);
      assert.equal(dynamicValue(hit, 'weight'), row.weight);
    }
  });

  test('partition_names restricts the search to those partitions', async () => {
    const inB = (r) => r.id >= 1000 && r.id < 1500;
    const [onlyB] = await search({ data: [QUERIES[0]], limit: 10, partition_names: [PARTITION_B] });
    assertExactHits(onlyB, exactTopK(candidates(inB), QUERIES[0], 10, 'L2'), PARTITION_B);
    const [onlyDefault] = await search({ data: [QUERIES[0]], limit: 10, partition_names: ['_default'] });
    assertExactHits(onlyDefault, exactTopK(candidates((r) => !inB(r)), QUERIES[0], 10, 'L2'), '_default');
  });

  test('round_decimal rounds the scores the server returns', async () => {
    const [exact] = await search({ data: [QUERIES[1]], limit: 10 });
    const [rounded] = await search({ data: [QUERIES[1]], limit: 10, params: { round_decimal: 2 } });
    assert.deepEqual(ids(rounded), ids(exact));
    rounded.forEach((hit, i) => {
      assert.ok(Math.abs(hit.score * 100 - Math.round(hit.score * 100)) < 1e-3,
        `score ${hit.score} has more than 2 decimals`);
      assert.ok(Math.abs(hit.score - exact[i].score) <= 0.005 + 1e-4,
        `rounded score ${hit.score} is not ${exact[i].score} rounded`);
    });
  });

  test('range search (L2): range_filter <= distance < radius, best first, at most limit', async () => {
    const all = exactTopK(candidates(), QUERIES[2], ROWS.length, 'L2');
    const between = (a, b) => (all[a].score + all[b].score) / 2;
    const rangeFilter = between(4, 5); // excludes the 5 nearest
    const radius = between(29, 30);
    const [hits] = await search({ data: [QUERIES[2]], limit: 100, params: { radius, range_filter: rangeFilter } });
    assertExactHits(hits, all.slice(5, 30), 'range search');
    for (const hit of hits) assert.ok(hit.score >= rangeFilter && hit.score < radius, `distance ${hit.score} out of range`);
    const [limited] = await search({ data: [QUERIES[2]], limit: 10, params: { radius, range_filter: rangeFilter } });
    assertExactHits(limited, all.slice(5, 15), 'range search with limit 10');
    const [radiusOnly] = await search({ data: [QUERIES[2]], limit: 100, params: { radius } });
    assertExactHits(radiusOnly, all.slice(0, 30), 'radius without range_filter');
  });

  // The exact hits of QUERIES[0] grouped by category, groups ordered by their best hit.
  function groupsByCategory() {
    const groups = new Map(); // keeps first-seen, i.e. best, order
    for (const hit of exactTopK(candidates(), QUERIES[0], ROWS.length, 'L2')) {
      const category = ROWS[Number(hit.id)].category;
      if (!groups.has(category)) groups.set(category, []);
      groups.get(category).push(hit);
    }
    return [...groups.values()];
  }

  test('group_by_field: the best hit of each of the `limit` best groups', async () => {
    const bestGroups = groupsByCategory().slice(0, 4);
    const [hits] = await search({ data: [QUERIES[0]], limit: 4, group_by_field: 'category', output_fields: ['category'] });
    assertExactHits(hits, bestGroups.map((group) => group[0]), 'group_by_field category');
    assert.deepEqual(hits.map((hit) => Number(hit.category)), hits.map((hit) => ROWS[Number(hit.id)].category),
      'category output matches the rows');

    const [fewGroups] = await search({ data: [QUERIES[0]], limit: 10, group_by_field: 'tag', output_fields: ['tag'] });
    assert.equal(fewGroups.length, 4, 'only 4 distinct tags exist');
    assert.equal(new Set(fewGroups.map((hit) => hit.tag)).size, 4, 'one hit per tag');
  });

  test('group_size: the group_size best hits of each group, laid out group after group', async () => {
    const expected = groupsByCategory().slice(0, 4).flatMap((group) => group.slice(0, 3));
    const [hits] = await search({ data: [QUERIES[0]], limit: 4, group_by_field: 'category', group_size: 3 });
    assert.deepEqual(ids(hits).sort(), ids(expected).sort(), 'the 3 best of each of the 4 best groups');
    // Milvus's reduce appends each group's hits together, groups in the order of their best hit.
    assert.deepEqual(ids(hits), ids(expected), 'grouped layout');
  });

  test('with group_by_field, offset skips whole groups', async () => {
    const groups = groupsByCategory();
    const [single] = await search({ data: [QUERIES[0]], limit: 2, offset: 1, group_by_field: 'category' });
    assert.deepEqual(ids(single), ids(groups.slice(1, 3).map((group) => group[0])), 'group_size 1');
    const [sized] = await search({ data: [QUERIES[0]], limit: 2, offset: 1, group_by_field: 'category', group_size: 3 });
    assert.deepEqual(ids(sized).sort(), ids(groups.slice(1, 3).flatMap((group) => group.slice(0, 3))).sort(),
      'group_size 3: the second and third groups, 3 hits each');
  });

  test("the seed's call: test_collection, embedding FloatVector(128), L2 index, nprobe 10, 10 hits", async () => {
    const seed = 'test_collection';
    assertOk(await createCollection(client, {
      collection_name: seed,
      fields: [
        { name: 'id', data_type: DataType.Int64, is_primary_key: true, autoID: true },
        { name: 'embedding', data_type: DataType.FloatVector, dim: 128 },
      ],
    }));
    const random = seededRandom(11);
    await insertRows(client, seed, range(0, 1000).map(() => ({
      embedding: Array.from({ length: 128 }, () => Math.fround(random())),
    })));
    await flushSync(client, seed);
    await createIndexAndWait(client, seed, {
      field_name: 'embedding', index_type: 'IVF_FLAT', metric_type: 'L2', params: { nlist: 16 },
    });
    await loadCollection(client, seed);
    const response = await client.search({
      collection_name: seed,
      data: [new Array(128).fill(0.1)],
      anns_field: 'embedding',
      params: { nprobe: 10 },
      metric_type: 'L2',
      limit: 10,
    });
    assertOk(response, 'the seed search');
    assert.equal(response.results.length, 10);
    assertRankedOrder(response.results, 'L2', 'seed search');
    assert.equal(new Set(response.results.map((hit) => hit.id)).size, 10, 'ten distinct rows');
  });
});

describe('search scores per metric', { timeout: 60_000 }, () => {
  let server;
  let client;
  const random = seededRandom(21);
  const rows = randomVectors(600, DIM, random).map((vector, id) => ({ id, vector }));
  const queries = randomVectors(2, DIM, random);

  before(async () => {
    server = await startQuiver();
    client = await server.client();
  });
  after(() => server?.cleanup());

  for (const metric of ['IP', 'COSINE']) {
    test(`${metric}: larger is better, hits descending, scores exact`, async () => {
      const name = uniqueName(`search_${metric.toLowerCase()}`);
      assertOk(await createCollection(client, {
        collection_name: name,
        fields: [
          { name: 'id', data_type: DataType.Int64, is_primary_key: true },
          { name: 'vector', data_type: DataType.FloatVector, dim: DIM },
        ],
      }));
      await insertRows(client, name, rows.slice(0, 500));
      await flushSync(client, name);
      await createIndexAndWait(client, name, { field_name: 'vector', index_type: 'FLAT', metric_type: metric });
      await loadCollection(client, name);
      await insertRows(client, name, rows.slice(500)); // growing rows are scored the same way

      const perQuery = await searchHits(client, { collection_name: name, data: queries, limit: 10, metric_type: metric });
      perQuery.forEach((hits, q) => {
        assertExactHits(hits, exactTopK(rows, queries[q], 10, metric), `${metric} query ${q}`);
        assertRankedOrder(hits, metric, `${metric} query ${q}`);
        if (metric === 'COSINE') {
          for (const hit of hits) assert.ok(hit.score <= 1 + 1e-5 && hit.score >= -1 - 1e-5, `cosine ${hit.score}`);
        }
      });

      // Range search for similarities: radius < score <= range_filter.
      const all = exactTopK(rows, queries[0], rows.length, metric);
      const between = (a, b) => (all[a].score + all[b].score) / 2;
      const rangeFilter = between(2, 3); // excludes the 3 most similar
      const radius = between(19, 20);
      const [ranged] = await searchHits(client, {
        collection_name: name, data: [queries[0]], limit: 100, metric_type: metric, params: { radius, range_filter: rangeFilter },
      });
      assertExactHits(ranged, all.slice(3, 20), `${metric} range search`);
      for (const hit of ranged) assert.ok(hit.score > radius && hit.score <= rangeFilter, `${metric} score ${hit.score} out of range`);

      if (metric === 'COSINE') {
        const [self] = await searchHits(client, { collection_name: name, data: [rows[42].vector], limit: 1 });
        assert.equal(self[0].id, '42', 'a stored vector is its own best match');
        assertScoreClose(self[0].score, 1, 'cosine of a vector with itself');
      }
    });
  }

  test('COSINE does not depend on the length of the vectors', async () => {
    const name = uniqueName('search_cosine_scale');
    assertOk(await createCollection(client, {
      collection_name: name,
      fields: [
        { name: 'id', data_type: DataType.Int64, is_primary_key: true },
        { name: 'vector', data_type: DataType.FloatVector, dim: DIM },
      ],
    }));
    const scaled = rows.slice(0, 200).map(({ id, vector }) => ({
      id, vector: vector.map((x) => Math.fround(x * (1 + (id % 7)))),
    }));
    await insertRows(client, name, scaled);
    await flushSync(client, name);
    await createIndexAndWait(client, name, {
      field_name: 'vector', index_type: 'HNSW', metric_type: 'COSINE', params: { M: 16, efConstruction: 64 },
    });
    await loadCollection(client, name);
    const query = queries[1];
    const top5 = async (vector) => (await searchHits(client, { collection_name: name, data: [vector], limit: 5, params: { ef: 64 } }))[0];
    const plain = await top5(query);
    const longer = await top5(query.map((x) => Math.fround(x * 10)));
    const unit = await top5(normalized(query));
    assert.deepEqual(ids(longer), ids(plain));
    assert.deepEqual(ids(unit), ids(plain));
    assertExactHits(plain, exactTopK(scaled, query, 5, 'COSINE'), 'cosine on scaled vectors');
  });
});

describe('search freshness: consistency levels, growing rows, deletes', { timeout: 60_000 }, () => {
  let server;
  let client;
  const random = seededRandom(31);
  const base = randomVectors(800, DIM, random).map((vector, id) => ({ id, vector }));

  before(async () => {
    server = await startQuiver();
    client = await server.client();
  });
  after(() => server?.cleanup());

  async function loadedCollection(indexType = 'HNSW') {
    const name = uniqueName('search_fresh');
    assertOk(await createCollection(client, {
      collection_name: name,
      fields: [
        { name: 'id', data_type: DataType.Int64, is_primary_key: true },
        { name: 'vector', data_type: DataType.FloatVector, dim: DIM },
      ],
    }));
    await insertRows(client, name, base.slice(0, 600));
    await flushSync(client, name);
    const params = indexType === 'HNSW' ? { M: 16, efConstruction: 100 } : {};
    await createIndexAndWait(client, name, { field_name: 'vector', index_type: indexType, metric_type: 'L2', params });
    await loadCollection(client, name);
    await insertRows(client, name, base.slice(600)); // growing, not indexed
    return name;
  }

  // A vector far from every other row: the query for it must find exactly that row first.
  const farVector = (n) => Array.from({ length: DIM }, (_, j) => 100 + n + j);

  test('Strong sees an insert acknowledged just before, in growing data', async () => {
    const name = await loadedCollection();
    for (let round = 0; round < 10; round++) {
      const id = 10_000 + round;
      await insertRows(client, name, [{ id, vector: farVector(round) }]);
      const [hits] = await searchHits(client, {
        collection_name: name, data: [farVector(round)], limit: 3, consistency_level: 'Strong', params: { ef: 16 },
      });
      assert.equal(hits[0]?.id, String(id), `round ${round}: the row just inserted is not found first`);
      assertScoreClose(hits[0].score, 0, 'distance to itself');
    }
  });

  test('Session and Customized with the write timestamp see the write; Bounded and Eventually see it soon', async () => {
    const name = await loadedCollection();
    let n = 0;
    const insertFar = async () => {
      n += 1;
      const response = await insertRows(client, name, [{ id: 20_000 + n, vector: farVector(n) }]);
      return { id: String(20_000 + n), vector: farVector(n), timestamp: response.timestamp };
    };
    for (const level of ['Session', 'Customized']) {
      const row = await insertFar();
      const [hits] = await searchHits(client, { collection_name: name, data: [row.vector], limit: 1, consistency_level: level },
        { guarantee_timestamp: row.timestamp });
      assert.equal(hits[0]?.id, row.id, `${level} with guarantee_timestamp misses the write`);
    }
    for (const level of ['Bounded', 'Eventually']) {
      const row = await insertFar();
      await waitFor(async () => {
        const [hits] = await searchHits(client, { collection_name: name, data: [row.vector], limit: 1, consistency_level: level });
        return hits[0]?.id === row.id;
      }, { timeoutMs: 10_000, intervalMs: 100, what: `${level} search seeing the insert` });
    }
  });

  test('deleted rows never appear, sealed or growing, before and after a flush', async () => {
    const name = await loadedCollection('FLAT');
    const query = base[700].vector; // a growing row, near sealed ones too
    const before = exactTopK(base, query, 20, 'L2');
    const doomed = before.slice(0, 6).map((hit) => Number(hit.id));
    assert.ok(doomed.some((id) => id < 600) && doomed.some((id) => id >= 600), 'deletes hit sealed and growing rows');
    assertOk(await client.delete({ collection_name: name, ids: doomed }));
    const live = base.filter(({ id }) => !doomed.includes(id));
    const check = async (when) => {
      const [hits] = await searchHits(client, { collection_name: name, data: [query], limit: 10 });
      for (const hit of hits) assert.ok(!doomed.includes(Number(hit.id)), `${when}: deleted row ${hit.id} found`);
      assertExactHits(hits, exactTopK(live, query, 10, 'L2'), when);
    };
    await check('right after the delete');
    await flushSync(client, name);
    await check('after flushing the deletes');
    const [filtered] = await searchHits(client, {
      collection_name: name, data: [query], limit: 10, filter: `id in [${doomed.join(',')}]`,
    });
    assert.deepEqual(filtered, [], 'a filter selecting only deleted rows finds nothing');
  });

  test('deletes between searches on an HNSW index', async () => {
    const name = await loadedCollection('HNSW');
    const query = base[10].vector;
    const deleted = new Set();
    for (let round = 0; round < 5; round++) {
      const [hits] = await searchHits(client, { collection_name: name, data: [query], limit: 5, params: { ef: 64 } });
      assert.equal(hits.length, 5);
      for (const hit of hits) assert.ok(!deleted.has(hit.id), `round ${round}: deleted row ${hit.id} found`);
      assertOk(await client.delete({ collection_name: name, ids: [Number(hits[0].id)] }));
      deleted.add(hits[0].id);
    }
  });

  test('growing rows are searched before any flush or index build', async () => {
    const name = await loadedCollection();
    const fresh = randomVectors(50, DIM, seededRandom(99)).map((vector, i) => ({ id: 50_000 + i, vector }));
    await insertRows(client, name, fresh);
    for (const row of fresh.slice(0, 5)) {
      const [hits] = await searchHits(client, { collection_name: name, data: [row.vector], limit: 1, params: { ef: 32 } });
      assert.equal(hits[0]?.id, String(row.id));
    }
  });
});
