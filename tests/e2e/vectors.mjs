// Helpers for the index and search tests (issue #4): reproducible vector data, exact ground
// truth computed here in JS, index creation that waits for the build, and searches that answer
// one list of hits per query vector whatever the SDK would have flattened.
import assert from 'node:assert/strict';
import { buildSearchRequest, formatSearchResult, promisify } from '@zilliz/milvus2-sdk-node';
import { assertOk } from './milvus.mjs';
import { waitFor } from './data.mjs';

// mulberry32: a tiny seeded PRNG, so every run inserts and queries the same vectors.
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Standard normal samples (Box-Muller).
export function gaussian(random) {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

// Vectors of float32-representable numbers, so the server and this file compute with the
// same inputs.
export function randomVectors(count, dim, random) {
  return Array.from({ length: count }, () => Array.from({ length: dim }, () => Math.fround(gaussian(random))));
}

// `count` points around `clusters` random centres: the shape of real embeddings, where IVF
// and HNSW behave as they do in production.
export function clusteredVectors(count, dim, { clusters, spread = 0.35, random }) {
  const centres = randomVectors(clusters, dim, random);
  return Array.from({ length: count }, () => {
    const centre = centres[Math.floor(random() * clusters)];
    return centre.map((x) => Math.fround(x + spread * gaussian(random)));
  });
}

export function normalized(vector) {
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  return vector.map((x) => Math.fround(x / norm));
}

// Dense vectors are arrays; sparse ones objects {dimension: value}.
function dot(a, b) {
  let sum = 0;
  if (!Array.isArray(a)) {
    for (const [dimension, value] of Object.entries(a)) sum += value * (b[dimension] ?? 0);
    return sum;
  }
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

// Binary vectors are arrays of bytes, bit i of the vector being bit (i % 8) of byte i / 8.
function popcount(byte) {
  let bits = 0;
  for (let b = byte; b; b >>= 1) bits += b & 1;
  return bits;
}

// Milvus's scores: L2 is the squared Euclidean distance, IP the dot product, COSINE the
// cosine similarity; HAMMING counts differing bits, JACCARD is 1 - |a ∩ b| / |a ∪ b|.
export const metrics = {
  L2: {
    higherIsBetter: false,
    score: (a, b) => {
      let sum = 0;
      for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2;
      return sum;
    },
  },
  IP: { higherIsBetter: true, score: dot },
  COSINE: { higherIsBetter: true, score: (a, b) => dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b)) },
  HAMMING: {
    higherIsBetter: false,
    score: (a, b) => a.reduce((sum, byte, i) => sum + popcount(byte ^ b[i]), 0),
  },
  JACCARD: {
    higherIsBetter: false,
    score: (a, b) => {
      let both = 0;
      let either = 0;
      a.forEach((byte, i) => { both += popcount(byte & b[i]); either += popcount(byte | b[i]); });
      return either === 0 ? 0 : 1 - both / either;
    },
  },
};

// True when score `a` ranks before score `b` under `metric`.
export function ranksBefore(metric, a, b) {
  return metrics[metric].higherIsBetter ? a > b : a < b;
}

// The exact best `k` of `candidates` ({id, vector}) for `query`: [{id, score}], best first.
export function exactTopK(candidates, query, k, metric) {
  const { score, higherIsBetter } = metrics[metric];
  const scored = candidates.map(({ id, vector }) => ({ id: String(id), score: score(query, vector) }));
  scored.sort((x, y) => (higherIsBetter ? y.score - x.score : x.score - y.score));
  return scored.slice(0, k);
}

export function recall(foundIds, trueIds) {
  const truth = new Set(trueIds.map(String));
  return foundIds.filter((id) => truth.has(String(id))).length / trueIds.length;
}

// Share of the exact top k (`exact`, best first) that hits with these true scores recover; a
// hit tied with the k-th best counts, since binary and quantized distances tie often and any
// of the tied rows is a right answer.
export function recallWithTies(trueScores, exact, metric) {
  const kth = exact[exact.length - 1].score;
  const belongs = (score) => ranksBefore(metric, score, kth) || Math.abs(score - kth) <= 1e-5 * Math.max(1, Math.abs(kth));
  return Math.min(trueScores.filter(belongs).length, exact.length) / exact.length;
}

// Scores travel as float32: equal within a relative tolerance.
export function assertScoreClose(actual, expected, what, tolerance = 1e-4) {
  assert.ok(Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)),
    `${what}: score ${actual}, expected ${expected}`);
}

// Hits must be ordered best first under `metric`.
export function assertRankedOrder(hits, metric, what) {
  for (let i = 1; i < hits.length; i++) {
    assert.ok(!ranksBefore(metric, hits[i].score, hits[i - 1].score),
      `${what}: hit ${i} (${hits[i].score}) ranks before hit ${i - 1} (${hits[i - 1].score}) under ${metric}`);
  }
}

// The state DescribeIndex reports for the index on `fieldName` (undefined without one).
export async function describeFieldIndex(client, collectionName, fieldName) {
  const response = await client.describeIndex({ collection_name: collectionName, field_name: fieldName });
  assertOk(response, `DescribeIndex(${collectionName}.${fieldName})`);
  const description = response.index_descriptions.find((index) => index.field_name === fieldName);
  assert.ok(description, `DescribeIndex(${collectionName}.${fieldName}) lists no index on the field`);
  return description;
}

// DescribeIndex params as an object, with the JSON `params` entry merged in.
export function indexParams(description) {
  const params = Object.fromEntries(description.params.map(({ key, value }) => [key, value]));
  const { params: nested, ...rest } = params;
  return { ...rest, ...(nested ? JSON.parse(nested) : {}) };
}

// Waits until every flushed row of the field is indexed: state Finished, indexed == total.
export async function waitForIndex(client, collectionName, fieldName, { timeoutMs = 30_000 } = {}) {
  return waitFor(async () => {
    const description = await describeFieldIndex(client, collectionName, fieldName);
    assert.notEqual(description.state, 'Failed',
      `index build of ${collectionName}.${fieldName} failed: ${description.index_state_fail_reason}`);
    return description.state === 'Finished' && description.indexed_rows === description.total_rows
      ? description : false;
  }, { timeoutMs, intervalMs: 50, what: `index on ${collectionName}.${fieldName} finished` });
}

// CreateIndex with SDK-style arguments ({field_name, index_type, metric_type, params}), then
// waits for the build.
export async function createIndexAndWait(client, collectionName, request) {
  assertOk(await client.createIndex({ collection_name: collectionName, ...request }),
    `CreateIndex(${collectionName}.${request.field_name}, ${request.index_type})`);
  return waitForIndex(client, collectionName, request.field_name);
}

// The Search (or HybridSearch) request the SDK would send for `params`, without sending it.
export async function buildSearch(client, params) {
  const collection = assertOk(await client.describeCollection({ collection_name: params.collection_name }),
    `DescribeCollection(${params.collection_name})`);
  return buildSearchRequest(params, collection, client.milvusProto);
}

// Sends what the SDK builds for `params`, plus `extra` fields, and returns the raw response.
// Strong unless told otherwise: the SDK would use the collection's level (Bounded by default),
// which may legitimately miss a write acknowledged just before.
export async function rawSearch(client, params, extra = {}) {
  const { request, isHybridSearch } = await buildSearch(client, { consistency_level: 'Strong', ...params });
  return promisify(client.channelPool, isHybridSearch ? 'HybridSearch' : 'Search', { ...request, ...extra },
    client.timeout);
}

// Hits per query vector ([[{id, score, ...fields}]]); the id comes from the response's ids,
// which the server fills whatever the output fields. Fails the test on an error status.
export async function searchHits(client, params, extra = {}) {
  const response = await rawSearch(client, params, extra);
  assertOk(response, `Search(${params.collection_name})`);
  return hitsOf(response);
}

export function hitsOf(response) {
  const { results } = response;
  const ids = results.ids?.int_id?.data ?? results.ids?.str_id?.data ?? [];
  const perQuery = formatSearchResult(response, { round_decimal: -1 });
  let offset = 0;
  return perQuery.map((hits) => {
    const withIds = hits.map((hit, i) => ({ ...hit, id: String(ids[offset + i]) }));
    offset += hits.length;
    return withIds;
  });
}

export const ids = (hits) => hits.map((hit) => hit.id);
