// Recall@10 of HNSW (M=16, efConstruction=200, ef=64) and IVF_FLAT (nlist=128, nprobe=16) on
// 20k clustered 64-dimensional vectors spread over several sealed segments plus growing rows,
// against the exact answer computed here; and filters that exclude 99 % of the rows, which must
// still return `limit` hits that all match.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startQuiver } from './harness.mjs';
import { DataType, assertOk, createCollection, uniqueName } from './milvus.mjs';
import { flushSync, insertRows, loadCollection } from './data.mjs';
import { clusteredVectors, createIndexAndWait, exactTopK, recall, searchHits, seededRandom } from './vectors.mjs';

const DIM = 64;
const SEALED_ROWS = 18_000;
const SEGMENTS = 4;
const GROWING_ROWS = 2_000;
const QUERY_COUNT = 100;
const K = 10;
const MIN_RECALL = 0.95;
const BUCKETS = 100; // `bucket == b` keeps 1 % of the rows

const random = seededRandom(2024);
// Many small, overlapping clusters: true neighbours often sit in neighbouring clusters, so a
// sloppy index shows (IVF with nprobe 4 stays below the bar here).
const vectors = clusteredVectors(SEALED_ROWS + GROWING_ROWS + QUERY_COUNT, DIM, { clusters: 1000, spread: 0.6, random });
const rows = vectors.slice(0, SEALED_ROWS + GROWING_ROWS).map((vector, id) => ({ id, vector, bucket: id % BUCKETS }));
const queries = vectors.slice(rows.length);

const INDEXES = [
  { field: 'hnsw_vec', index: { index_type: 'HNSW', metric_type: 'L2', params: { M: 16, efConstruction: 200 } }, search: { ef: 64 } },
  { field: 'ivf_vec', index: { index_type: 'IVF_FLAT', metric_type: 'L2', params: { nlist: 128 } }, search: { nprobe: 16 } },
];

const toRow = ({ id, vector, bucket }) => ({ id, bucket, hnsw_vec: vector, ivf_vec: vector });

describe('recall', { timeout: 60_000 }, () => {
  let server;
  let client;
  const name = uniqueName('recall');

  before(async () => {
    server = await startQuiver();
    client = await server.client();
    assertOk(await createCollection(client, {
      collection_name: name,
      fields: [
        { name: 'id', data_type: DataType.Int64, is_primary_key: true },
        { name: 'bucket', data_type: DataType.Int64 },
        ...INDEXES.map(({ field }) => ({ name: field, data_type: DataType.FloatVector, dim: DIM })),
      ],
    }));
    const perSegment = SEALED_ROWS / SEGMENTS;
    for (let start = 0; start < SEALED_ROWS; start += perSegment) {
      for (let batch = start; batch < start + perSegment; batch += 1500) {
        await insertRows(client, name, rows.slice(batch, Math.min(batch + 1500, start + perSegment)).map(toRow));
      }
      await flushSync(client, name);
    }
    for (const { field, index } of INDEXES) await createIndexAndWait(client, name, { field_name: field, ...index });
    await loadCollection(client, name);
    for (let batch = SEALED_ROWS; batch < rows.length; batch += 1000) {
      await insertRows(client, name, rows.slice(batch, batch + 1000).map(toRow));
    }
  });
  after(() => server?.cleanup());

  async function measureRecall(field, search, filter, predicate = () => true) {
    const candidates = rows.filter(predicate);
    const perQuery = await searchHits(client, {
      collection_name: name, anns_field: field, data: queries, limit: K, params: search, filter,
      output_fields: ['bucket'],
    });
    assert.equal(perQuery.length, QUERY_COUNT);
    let total = 0;
    perQuery.forEach((hits, q) => {
      assert.equal(hits.length, K, `query ${q}${filter ? ` with filter ${filter}` : ''}: ${hits.length} hits, not ${K}`);
      for (const hit of hits) assert.ok(predicate(rows[Number(hit.id)]), `hit ${hit.id} does not match ${filter}`);
      total += recall(hits.map((hit) => hit.id), exactTopK(candidates, queries[q], K, 'L2').map((hit) => hit.id));
    });
    return total / QUERY_COUNT;
  }

  test('nprobe trades recall for speed: IVF_FLAT with nprobe 1 misses neighbours nprobe 16 finds', async () => {
    const [ivf] = INDEXES.filter(({ index }) => index.index_type === 'IVF_FLAT');
    const narrow = await measureRecall(ivf.field, { nprobe: 1 });
    const wide = await measureRecall(ivf.field, ivf.search);
    assert.ok(narrow < wide, `recall with nprobe 1 (${narrow}) is not below recall with nprobe 16 (${wide}): is the index used?`);
  });

  for (const { field, index, search } of INDEXES) {
    const label = `${index.index_type} ${JSON.stringify(index.params)} search ${JSON.stringify(search)}`;

    test(`${label}: recall@${K} >= ${MIN_RECALL} over sealed and growing rows`, async () => {
      const measured = await measureRecall(field, search);
      assert.ok(measured >= MIN_RECALL, `${label}: recall@${K} ${measured.toFixed(3)}`);
    });

    test(`${label}: a filter excluding 99 % of the rows still returns ${K} matching hits`, async () => {
      for (const bucket of [7, 42]) {
        const measured = await measureRecall(field, search, `bucket == ${bucket}`, (row) => row.bucket === bucket);
        assert.ok(measured >= MIN_RECALL, `${label}, bucket == ${bucket}: recall@${K} ${measured.toFixed(3)}`);
      }
      const measured = await measureRecall(field, search, 'bucket in [3, 4] and id < 15000',
        (row) => (row.bucket === 3 || row.bucket === 4) && row.id < 15000);
      assert.ok(measured >= MIN_RECALL, `${label}, two buckets below id 15000: recall@${K} ${measured.toFixed(3)}`);
    });
  }
});
