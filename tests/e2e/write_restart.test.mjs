// Durability of data across restarts: rows and deletes acknowledged before a SIGKILL or a
// SIGTERM are all there afterwards, flushed or not; loaded collections are loaded again (as
// Milvus's QueryCoord restores them); new writes after the restart get fresh keys and later
// timestamps.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startQuiver } from './harness.mjs';
import { DataType, assertOk, createCollection, uniqueName } from './milvus.mjs';
import {
  LoadState, countRows, flushSync, insertRows, loadCollection, loadPartitions, loadState, mutationIds, queryIds,
  queryRows, range, rowsWithIds, sortIds, waitFor,
} from './data.mjs';

const fields = [
  { name: 'id', data_type: DataType.Int64, is_primary_key: true },
  { name: 'vector', data_type: DataType.FloatVector, dim: 4 },
  { name: 'payload', data_type: DataType.VarChar, max_length: 32 },
];
const payloadOf = (id) => `row-${id}`;

describe('data survives restarts', { timeout: 180_000 }, () => {
  let server;

  before(async () => {
    server = await startQuiver();
  });
  after(() => server?.cleanup());

  // Writes a known history: flushed rows, unflushed rows, deletes of both, an upsert.
  // Returns the exact expected content, id -> payload.
  async function writeHistory(client, name, { load }) {
    assertOk(await createCollection(client, { collection_name: name, fields }));
    if (load) await loadCollection(client, name);
    const expected = new Map();
    const insert = async (ids) => {
      await insertRows(client, name, rowsWithIds(ids, 4, (id) => ({ payload: payloadOf(id) })));
      for (const id of ids) expected.set(id, payloadOf(id));
    };
    await insert(range(0, 1000));
    await flushSync(client, name);
    await insert(range(1000, 500));
    assertOk(await client.delete({ collection_name: name, ids: range(0, 50) })); // flushed rows
    assertOk(await client.delete({ collection_name: name, ids: range(1400, 50) })); // growing rows
    for (const id of [...range(0, 50), ...range(1400, 50)]) expected.delete(id);
    assertOk(await client.upsert({
      collection_name: name, data: rowsWithIds([60, 1460], 4, (id) => ({ payload: `new-${id}` })),
    }));
    expected.set(60, 'new-60');
    expected.set(1460, 'new-1460');
    await insert(range(2000, 7)); // the last acknowledged write before the crash
    return expected;
  }

  async function assertContent(client, name, expected) {
    assert.equal(await countRows(client, name), expected.size, `count(*) of ${name}`);
    const rows = await queryRows(client, name, { filter: 'id >= 0', output_fields: ['payload'] });
    const actual = new Map(rows.map((row) => [Number(row.id), row.payload]));
    assert.equal(actual.size, rows.length, 'a primary key appears twice');
    const missing = [...expected.keys()].filter((id) => !actual.has(id));
    const unexpected = [...actual.keys()].filter((id) => !expected.has(id));
    assert.deepEqual({ missing: sortIds(missing), unexpected: sortIds(unexpected) }, { missing: [], unexpected: [] });
    for (const [id, payload] of expected) assert.equal(actual.get(id), payload, `payload of row ${id}`);
  }

  async function waitUntilLoaded(client, name) {
    await waitFor(async () => {
      const state = await loadState(client, name);
      assert.notEqual(state, LoadState.NotLoad, `${name} was loaded before the restart but is not any more`);
      return state === LoadState.Loaded;
    }, { what: `${name} loaded again after restart` });
  }

  for (const [how, stop] of [['SIGKILL', (s) => s.kill9()], ['SIGTERM', (s) => s.stop()]]) {
    test(`rows, deletes and load state acknowledged before ${how} are all there after restart`, async () => {
      let client = await server.client();
      const loaded = uniqueName(`loaded_${how}`);
      const released = uniqueName(`released_${how}`);
      const expectLoaded = await writeHistory(client, loaded, { load: true });
      const expectReleased = await writeHistory(client, released, { load: false });
      await assertContent(client, loaded, expectLoaded);

      await stop(server);
      await server.restart();
      client = await server.client();

      await waitUntilLoaded(client, loaded);
      await assertContent(client, loaded, expectLoaded);
      assert.equal(await loadState(client, released), LoadState.NotLoad, 'a collection never loaded stays unloaded');
      await loadCollection(client, released);
      await assertContent(client, released, expectReleased);
    });
  }

  test('which partitions were loaded survives a crash', async () => {
    let client = await server.client();
    const name = uniqueName('partly_loaded');
    assertOk(await createCollection(client, { collection_name: name, fields }));
    for (const partition of ['p1', 'p2']) {
      assertOk(await client.createPartition({ collection_name: name, partition_name: partition }));
      await insertRows(client, name, rowsWithIds(range(partition === 'p1' ? 0 : 100, 10), 4,
        (id) => ({ payload: payloadOf(id) })), { partition_name: partition });
    }
    await loadPartitions(client, name, ['p1']);
    await server.kill9();
    await server.restart();
    client = await server.client();
    await waitFor(async () => (await loadState(client, name, ['p1'])) === LoadState.Loaded, { what: 'p1 loaded again' });
    assert.equal(await loadState(client, name, ['p2']), LoadState.NotLoad);
    assert.equal(await countRows(client, name), 10);
  });

  test('dropped collections and partitions do not come back after a crash', async () => {
    let client = await server.client();
    const dropped = uniqueName('dropped');
    const kept = uniqueName('kept');
    for (const name of [dropped, kept]) {
      assertOk(await createCollection(client, { collection_name: name, fields }));
      assertOk(await client.createPartition({ collection_name: name, partition_name: 'gone' }));
      await insertRows(client, name, rowsWithIds(range(0, 20), 4, (id) => ({ payload: payloadOf(id) })));
      await insertRows(client, name, rowsWithIds(range(100, 20), 4, (id) => ({ payload: payloadOf(id) })),
        { partition_name: 'gone' });
      await flushSync(client, name);
    }
    assertOk(await client.dropCollection({ collection_name: dropped }));
    assertOk(await client.dropPartition({ collection_name: kept, partition_name: 'gone' }));
    await server.kill9();
    await server.restart();
    client = await server.client();

    assertOk(await createCollection(client, { collection_name: dropped, fields }));
    await loadCollection(client, dropped);
    assert.equal(await countRows(client, dropped), 0, 'rows of the dropped collection came back');
    await loadCollection(client, kept);
    assert.deepEqual(await queryIds(client, kept, 'id >= 0'), range(0, 20), 'rows of the dropped partition came back');
  });

  test('a second crash right after recovery loses nothing either', async () => {
    let client = await server.client();
    const name = uniqueName('twice');
    const expected = await writeHistory(client, name, { load: true });
    await server.kill9();
    await server.restart();
    await server.kill9();
    await server.restart();
    client = await server.client();
    await waitUntilLoaded(client, name);
    await assertContent(client, name, expected);
  });

  test('after a crash, autoID keys are fresh and timestamps keep increasing', async () => {
    let client = await server.client();
    const name = uniqueName('autoid_restart');
    assertOk(await createCollection(client, {
      collection_name: name,
      fields: [{ ...fields[0], autoID: true }, fields[1], fields[2]],
    }));
    await loadCollection(client, name);
    const rows = (n) => range(0, n).map((i) => ({ vector: [i, 0, 0, 0], payload: 'x' }));
    const before = await insertRows(client, name, rows(100));
    await server.kill9();
    await server.restart();
    client = await server.client();
    await waitUntilLoaded(client, name);
    const afterCrash = await insertRows(client, name, rows(100));

    const oldKeys = new Set(mutationIds(before));
    assert.ok(mutationIds(afterCrash).every((id) => !oldKeys.has(id)), 'an autoID key was handed out twice');
    assert.ok(BigInt(afterCrash.timestamp) > BigInt(before.timestamp),
      `timestamp went backwards across the restart: ${before.timestamp} then ${afterCrash.timestamp}`);
    assert.equal(await countRows(client, name), 200);
  });

  test('rows written after recovery are durable too, and flush still works', async () => {
    let client = await server.client();
    const name = uniqueName('after_recovery');
    const expected = await writeHistory(client, name, { load: true });
    await server.kill9();
    await server.restart();
    client = await server.client();
    await waitUntilLoaded(client, name);
    await insertRows(client, name, rowsWithIds(range(3000, 10), 4, (id) => ({ payload: payloadOf(id) })));
    for (const id of range(3000, 10)) expected.set(id, payloadOf(id));
    await flushSync(client, name);
    await server.kill9();
    await server.restart();
    client = await server.client();
    await waitUntilLoaded(client, name);
    await assertContent(client, name, expected);
  });
});
