// Consistency levels as Milvus documents them: Strong sees every write acknowledged before
// the query; Session sees the writes whose timestamp the client passes as guarantee_timestamp
// (the Node SDK does not track sessions itself); Bounded and Eventually see them shortly after.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startQuiver } from './harness.mjs';
import { assertOk, createCollection, rawCall, simpleFields, uniqueName } from './milvus.mjs';
import {
  countRows, insertRows, loadCollection, physicalMs, range, rowsWithIds, waitFor,
} from './data.mjs';

const ROUNDS = 25;
const BATCH = 8;

describe('consistency levels', { timeout: 120_000 }, () => {
  let server;
  let client;

  before(async () => {
    server = await startQuiver();
    client = await server.client();
  });
  after(() => server?.cleanup());

  async function loadedCollection(options = {}) {
    const name = uniqueName('consistency');
    assertOk(await createCollection(client, { collection_name: name, fields: simpleFields(4), ...options }));
    await loadCollection(client, name);
    return name;
  }

  test('mutation timestamps are hybrid timestamps of now, strictly increasing', async () => {
    const name = await loadedCollection();
    let previous = 0n;
    for (let round = 0; round < 10; round++) {
      const before = Date.now();
      const inserted = await insertRows(client, name, rowsWithIds([round]));
      const deleted = assertOk(await client.delete({ collection_name: name, ids: [round] }));
      const after = Date.now();
      for (const response of [inserted, deleted]) {
        const ts = BigInt(response.timestamp);
        assert.ok(ts > previous, `timestamp ${ts} does not follow ${previous}`);
        previous = ts;
        const ms = physicalMs(response.timestamp);
        assert.ok(ms >= before - 1000 && ms <= after + 1000,
          `physical part ${ms} of timestamp ${ts} is not the time of the call (${before}..${after})`);
      }
    }
  });

  test('Strong: every acknowledged insert and delete is visible to the very next query', async () => {
    const name = await loadedCollection();
    for (let round = 0; round < ROUNDS; round++) {
      await insertRows(client, name, rowsWithIds(range(round * BATCH, BATCH)));
      assert.equal(await countRows(client, name, { consistency_level: 'Strong' }), (round + 1) * BATCH - round,
        `count right after insert round ${round}`);
      assertOk(await client.delete({ collection_name: name, ids: [round * BATCH] }));
      assert.equal(await countRows(client, name, { consistency_level: 'Strong' }), (round + 1) * (BATCH - 1),
        `count right after delete round ${round}`);
    }
  });

  test('Strong is what the Node SDK asks for when no level is given', async () => {
    const name = await loadedCollection({ consistency_level: 'Eventually' });
    for (let round = 0; round < ROUNDS; round++) {
      await insertRows(client, name, rowsWithIds(range(round * BATCH, BATCH)));
      const counted = await client.count({ collection_name: name });
      assertOk(counted);
      assert.equal(counted.data, (round + 1) * BATCH, `count(*) without a level, round ${round}`);
    }
  });

  test('Strong sees writes acknowledged to another client', async () => {
    const name = await loadedCollection();
    const writer = await server.client();
    for (let round = 0; round < 10; round++) {
      await insertRows(writer, name, rowsWithIds(range(round * BATCH, BATCH)));
      assert.equal(await countRows(client, name, { consistency_level: 'Strong' }), (round + 1) * BATCH);
    }
  });

  test('Strong sees every write of several clients writing at once', async () => {
    const name = await loadedCollection();
    const writers = await Promise.all(range(0, 6).map(() => server.client()));
    for (let round = 0; round < 10; round++) {
      await Promise.all(writers.map((writer, w) => insertRows(writer, name, rowsWithIds(range((round * 6 + w) * BATCH, BATCH)))));
      assert.equal(await countRows(client, name, { consistency_level: 'Strong' }), (round + 1) * 6 * BATCH, `round ${round}`);
    }
  });

  test('Session with the write timestamp as guarantee_timestamp sees the write', async () => {
    const name = await loadedCollection({ consistency_level: 'Session' });
    for (let round = 0; round < ROUNDS; round++) {
      const inserted = await insertRows(client, name, rowsWithIds(range(round * BATCH, BATCH)));
      const count = await countRows(client, name, {
        consistency_level: 'Session', guarantee_timestamp: inserted.timestamp,
      });
      assert.equal(count, (round + 1) * BATCH, `Session count after round ${round}`);
    }
  });

  test("a collection's default level is used when the request asks for it (use_default_consistency)", async () => {
    const name = await loadedCollection({ consistency_level: 'Strong' });
    for (let round = 0; round < 10; round++) {
      await insertRows(client, name, rowsWithIds(range(round * BATCH, BATCH)));
      const response = assertOk(await rawCall(client, 'Query', {
        collection_name: name, expr: '', output_fields: ['count(*)'], use_default_consistency: true,
        consistency_level: 'Eventually',
      }));
      const count = Number(response.fields_data[0].scalars.long_data.data[0]);
      assert.equal(count, (round + 1) * BATCH, `default-level (Strong) count after round ${round}`);
    }
  });

  for (const level of ['Bounded', 'Eventually']) {
    test(`${level}: writes become visible within a few seconds and counts never overshoot`, async () => {
      const name = await loadedCollection();
      let inserted = 0;
      for (let round = 0; round < 3; round++) {
        await insertRows(client, name, rowsWithIds(range(round * 100, 100)));
        inserted += 100;
        const start = Date.now();
        await waitFor(async () => {
          const count = await countRows(client, name, { consistency_level: level });
          assert.ok(count <= inserted, `${level} count ${count} exceeds the ${inserted} rows inserted`);
          return count === inserted;
        }, { timeoutMs: 8_000, intervalMs: 100, what: `${level} count reaching ${inserted}` });
        assert.ok(Date.now() - start < 8_000);
      }
    });
  }
});
