// Compaction (ManualCompaction / GetCompactionState, and the background kind): small flushed
// segments are merged and deleted rows purged, while reads stay exact before, during and
// after, and across a crash.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startQuiver } from './harness.mjs';
import { DataType, assertError, assertOk, createCollection, uniqueName } from './milvus.mjs';
import {
  LoadState, countRows, flushSync, insertRows, loadCollection, loadState, queryIds, range, rowsWithIds,
  statsRowCount, waitFor,
} from './data.mjs';

const fields = [
  { name: 'id', data_type: DataType.Int64, is_primary_key: true },
  { name: 'vector', data_type: DataType.FloatVector, dim: 4 },
];

describe('compaction', { timeout: 120_000 }, () => {
  let server;
  let client;

  before(async () => {
    server = await startQuiver();
    client = await server.client();
  });
  after(() => server?.cleanup());

  // Ten flushed segments of 100 rows, then every third row deleted and flushed.
  async function fragmentedCollection() {
    const name = uniqueName('compaction');
    assertOk(await createCollection(client, { collection_name: name, fields }));
    await loadCollection(client, name);
    for (let segment = 0; segment < 10; segment++) {
      await insertRows(client, name, rowsWithIds(range(segment * 100, 100)));
      await flushSync(client, name);
    }
    assertOk(await client.delete({ collection_name: name, filter: 'id % 3 == 0' }));
    await flushSync(client, name);
    return { name, expected: range(0, 1000).filter((id) => id % 3 !== 0) };
  }

  async function assertExact(name, expected, when) {
    assert.equal(await countRows(client, name), expected.length, `count(*) ${when}`);
    assert.deepEqual(await queryIds(client, name, 'id >= 0'), expected, `rows ${when}`);
  }

  async function compactAndWait(name, whileWaiting = async () => {}) {
    const started = assertOk(await client.compact({ collection_name: name }), 'ManualCompaction');
    assert.ok(BigInt(started.compactionID) > 0n, `compactionID ${started.compactionID}`);
    await waitFor(async () => {
      await whileWaiting();
      const state = assertOk(await client.getCompactionState({ compactionID: started.compactionID }), 'GetCompactionState');
      return state.state === 'Completed';
    }, { timeoutMs: 60_000, intervalMs: 20, what: `compaction of ${name} completed` });
  }

  test('reads are exact while a manual compaction runs, and after it', async () => {
    const { name, expected } = await fragmentedCollection();
    await assertExact(name, expected, 'before compaction');
    await compactAndWait(name, () => assertExact(name, expected, 'during compaction'));
    await assertExact(name, expected, 'after compaction');
  });

  test('after compaction the statistics no longer count deleted rows', async () => {
    const { name, expected } = await fragmentedCollection();
    await compactAndWait(name);
    await waitFor(async () => (await statsRowCount(client, name)) === expected.length,
      { timeoutMs: 10_000, what: `GetCollectionStatistics row_count reaching ${expected.length}` });
  });

  test('writes after compaction, and a crash after it, lose nothing and bring nothing back', async () => {
    const { name, expected } = await fragmentedCollection();
    await compactAndWait(name);
    await insertRows(client, name, rowsWithIds(range(1000, 10)));
    assertOk(await client.delete({ collection_name: name, ids: [1, 2] }));
    const now = [...expected.filter((id) => id > 2), ...range(1000, 10)];
    await assertExact(name, now, 'after writes following compaction');

    await server.kill9();
    await server.restart();
    client = await server.client();
    await waitFor(async () => (await loadState(client, name)) === LoadState.Loaded, { what: `${name} loaded again` });
    await assertExact(name, now, 'after a crash following compaction');
  });

  test('a crash while compaction runs loses nothing and brings nothing back', async () => {
    const { name, expected } = await fragmentedCollection();
    assertOk(await client.compact({ collection_name: name }), 'ManualCompaction');
    await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 50)));
    await server.kill9();
    await server.restart();
    client = await server.client();
    await waitFor(async () => (await loadState(client, name)) === LoadState.Loaded, { what: `${name} loaded again` });
    await assertExact(name, expected, 'after a crash during compaction');
    await compactAndWait(name);
    await assertExact(name, expected, 'after compacting again');
  });

  test('compacting a collection with no data completes', async () => {
    const name = uniqueName('compaction_empty');
    assertOk(await createCollection(client, { collection_name: name, fields }));
    await compactAndWait(name);
  });

  test('compacting a collection that does not exist fails', async () => {
    const response = await client.compact({ collection_name: uniqueName('missing') });
    assertError(response, {}, 'ManualCompaction of a missing collection');
  });
});
