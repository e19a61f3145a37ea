// Crash test: a writer inserts batches, and upserts or deletes some earlier ones, as fast as it
// can; a flusher seals segments every few hundred milliseconds; meanwhile the server is SIGKILLed
// at random moments and restarted. Afterwards exactly the acknowledged writes must be there:
// every acknowledged row, no acknowledged delete undone, no key twice (an upsert cut off must
// leave the old row or the new one, never none or both), and a write that was cut off is
// either wholly applied or not at all.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startQuiver } from './harness.mjs';
import { DataType, assertOk, createCollection } from './milvus.mjs';
import { LoadState, loadCollection, loadState, range, sleep, waitFor } from './data.mjs';

const KILLS = 8;
const BATCH_ROWS = 200;
const DELETE_EVERY = 4; // every 4th write deletes the batch acknowledged 3 batches earlier
const UPSERT_EVERY = 4; // and every 4th (another one) upserts the batch acknowledged 2 earlier
const COLLECTION = 'crash';

// The row stored for key `id`: `twice` lets the check spot rows that were torn or mixed up.
const rowFor = (id) => ({ id, vector: [id % 97, 1, 2, 3], twice: 2 * id });

// Writes until the server stops answering. Each write is one request; the outcome of each is
// recorded as acknowledged, or unknown when the call failed.
async function writeUntilFailure(client, log, nextBatch) {
  for (;;) {
    const batch = nextBatch();
    const deleteTarget = batch % DELETE_EVERY === 0 ? log.ackedBatches.at(-3) : undefined;
    const upsertTarget = batch % UPSERT_EVERY === 2 ? log.ackedBatches.at(-2) : undefined;
    try {
      if (upsertTarget !== undefined && !log.deleteAttempted.has(upsertTarget)) {
        const response = await client.upsert({ collection_name: COLLECTION, data: keysOf(upsertTarget).map(rowFor) });
        if (response.status.error_code !== 'Success') throw new Error(response.status.reason);
        log.upserts += 1;
      }
      if (deleteTarget !== undefined && !log.deleteAttempted.has(deleteTarget)) {
        log.deleteAttempted.add(deleteTarget);
        const response = await client.delete({ collection_name: COLLECTION, ids: keysOf(deleteTarget) });
        if (response.status.error_code !== 'Success') throw new Error(response.status.reason);
        log.ackedDeletes.add(deleteTarget);
      }
      log.attempted.add(batch);
      const response = await client.insert({
        collection_name: COLLECTION, data: keysOf(batch).map(rowFor),
      });
      if (response.status.error_code !== 'Success') throw new Error(response.status.reason);
      log.ackedBatches.push(batch);
    } catch (error) {
      log.failures.push(`batch ${batch}: ${error.message ?? error}`.slice(0, 200));
      return;
    }
  }
}

// Flushes every 100-300 ms until the server stops answering, so that kills also land while
// segments are being sealed and written out.
async function flushUntilFailure(client, log) {
  for (;;) {
    try {
      const response = await client.flush({ collection_names: [COLLECTION] });
      if (response.status.error_code !== 'Success') throw new Error(response.status.reason);
      log.flushes += 1;
    } catch (error) {
      log.failures.push(`flush: ${error.message ?? error}`.slice(0, 200));
      return;
    }
    await sleep(100 + Math.floor(Math.random() * 200));
  }
}

function keysOf(batch) {
  return range(batch * BATCH_ROWS, BATCH_ROWS);
}

describe('crash under insert load', { timeout: 90_000 }, () => {
  let server;
  const log = {
    attempted: new Set(), ackedBatches: [], deleteAttempted: new Set(), ackedDeletes: new Set(), upserts: 0, flushes: 0, failures: [],
  };
  const killDelays = [];

  before(async () => {
    server = await startQuiver();
    const client = await server.client();
    assertOk(await createCollection(client, {
      collection_name: COLLECTION,
      shards_num: 1,
      fields: [
        { name: 'id', data_type: DataType.Int64, is_primary_key: true },
        { name: 'vector', data_type: DataType.FloatVector, dim: 4 },
        { name: 'twice', data_type: DataType.Int64 },
      ],
    }));
    await loadCollection(client, COLLECTION);
  });
  after(() => server?.cleanup());

  test(`${KILLS} SIGKILLs during inserts lose no acknowledged write and duplicate nothing`, async (t) => {
    let batch = 0;
    const ackedPerRound = [];
    for (let kill = 0; kill < KILLS; kill++) {
      // No SDK retries: each write is exactly one request, acknowledged or not.
      const client = await server.client({ timeout: 10_000, maxRetries: 0 });
      const ackedBefore = log.ackedBatches.length;
      const writer = writeUntilFailure(client, log, () => batch++);
      const flusher = flushUntilFailure(await server.client({ timeout: 10_000, maxRetries: 0 }), log);
      const delay = 300 + Math.floor(Math.random() * 1200);
      killDelays.push(delay);
      await sleep(delay);
      await server.kill9();
      await Promise.all([writer, flusher]);
      ackedPerRound.push(log.ackedBatches.length - ackedBefore);
      await server.restart();
    }

    const client = await server.client();
    await waitFor(async () => (await loadState(client, COLLECTION)) === LoadState.Loaded,
      { what: 'collection loaded again after the last restart' });

    const context = () => `kill delays ${killDelays} ms; ${log.ackedBatches.length} batches acknowledged of `
      + `${log.attempted.size} attempted; failures: ${log.failures.join(' | ')}`;
    assert.ok(ackedPerRound.every((n) => n > 0),
      `every kill must hit a server under write load; batches acknowledged per round: ${ackedPerRound}; ${context()}`);

    const everything = await client.query({
      collection_name: COLLECTION, filter: 'id >= 0', output_fields: ['id', 'twice'], consistency_level: 'Strong',
    });
    assertOk(everything);
    const rows = everything.data;
    const present = new Map();
    const duplicated = [];
    for (const row of rows) {
      const id = Number(row.id);
      if (present.has(id)) duplicated.push(id);
      present.set(id, Number(row.twice));
    }
    assert.deepEqual(duplicated.slice(0, 20), [], `primary keys returned twice: ${context()}`);

    const counted = await client.query({
      collection_name: COLLECTION, filter: '', output_fields: ['count(*)'], consistency_level: 'Strong',
    });
    assertOk(counted);
    assert.equal(Number(counted.data[0]['count(*)']), present.size, `count(*) differs from the distinct keys present: ${context()}`);

    const torn = [...present].filter(([id, twice]) => twice !== 2 * id).map(([id]) => id);
    assert.deepEqual(torn.slice(0, 20), [], `rows with wrong values: ${context()}`);

    const presentBatches = new Map();
    for (const id of present.keys()) {
      const owner = Math.floor(id / BATCH_ROWS);
      presentBatches.set(owner, (presentBatches.get(owner) ?? 0) + 1);
    }
    const lostAcked = log.ackedBatches.filter((b) => !log.deleteAttempted.has(b) && presentBatches.get(b) !== BATCH_ROWS);
    assert.deepEqual(lostAcked, [], `acknowledged batches missing rows: ${context()}`);
    const undeleted = [...log.ackedDeletes].filter((b) => presentBatches.has(b));
    assert.deepEqual(undeleted, [], `acknowledged deletes undone: ${context()}`);
    const neverWritten = [...presentBatches.keys()].filter((b) => !log.attempted.has(b));
    assert.deepEqual(neverWritten, [], `rows that were never written: ${context()}`);
    const unacknowledged = [...log.attempted].filter((b) => !log.ackedBatches.includes(b));
    t.diagnostic(`${log.ackedBatches.length} batches acknowledged (per round: ${ackedPerRound}), `
      + `${log.ackedDeletes.size} deletes and ${log.upserts} upserts acknowledged, ${log.flushes} flushes, ${present.size} rows present; unacknowledged batches `
      + `present: [${unacknowledged.filter((b) => presentBatches.has(b))}], absent: [${unacknowledged.filter((b) => !presentBatches.has(b))}]; `
      + `kill delays ${killDelays} ms`);
    const partial = [...presentBatches].filter(([, n]) => n !== BATCH_ROWS).map(([b, n]) => `${b}:${n}`);
    assert.deepEqual(partial, [], `batches only partly present (one insert request must be all or nothing): ${context()}`);
  });
});
