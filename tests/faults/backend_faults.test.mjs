// Fault tests on the real backends (run by `make e2e-backends-test` after the e2e suite, one
// at a time, because they kill members of the shared services): while Quiver serves inserts,
// flushes and searches, one etcd member, one NATS JetStream node or the S3 gateway is killed
// with SIGKILL and started again. Quiver itself is never restarted. Afterwards every
// acknowledged row is there exactly once, and writes were acknowledged again after the fault.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startQuiver } from '../e2e/harness.mjs';
import { backendsSettings, onBackends } from '../e2e/backends.mjs';
import { DataType, assertOk, createCollection } from '../e2e/milvus.mjs';
import { loadCollection, range, sleep } from '../e2e/data.mjs';

const run = promisify(execFile);
const scripts = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'backends');
const BATCH_ROWS = 100;
const DIM = 8;

const backendScript = (service, ...args) => run(path.join(scripts, `${service}.sh`), args, { env: process.env });

// The etcd member that leads the cluster now, found through each member's JSON gateway.
async function etcdLeaderIndex() {
  const endpoints = backendsSettings.QUIVER_ETCD_ENDPOINTS.split(',');
  for (let i = 0; i < endpoints.length; i++) {
    try {
      const response = await fetch(`http://${endpoints[i]}/v3/maintenance/status`,
        { method: 'POST', body: '{}', signal: AbortSignal.timeout(2_000) });
      const status = await response.json();
      if (status.leader && status.leader === status.header?.member_id) return i;
    } catch { /* a member that does not answer is not the leader we want */ }
  }
  return 0;
}

const rowFor = (id) => ({ id, vector: range(id % 50, DIM).map((x) => x / 10), twice: 2 * id });

// Inserts batch after batch until `stop()`; records acknowledged batches and the time of each
// acknowledgement, so the longest pause in service can be reported.
async function writeUntil(client, collection, stop, log) {
  let batch = 0;
  while (!stop()) {
    const ids = range(batch * BATCH_ROWS, BATCH_ROWS);
    try {
      const response = await client.insert({ collection_name: collection, data: ids.map(rowFor) });
      if (response.status.error_code !== 'Success') throw new Error(response.status.reason);
      log.acked.push(batch);
      log.ackTimes.push(Date.now());
    } catch (error) {
      log.failures.push(`batch ${batch}: ${error.message ?? error}`.slice(0, 200));
      await sleep(200);
    }
    batch++;
  }
}

async function flushAndSearchUntil(client, collection, stop, log) {
  while (!stop()) {
    try {
      assertOk(await client.flush({ collection_names: [collection] }));
      const found = await client.search({
        collection_name: collection, data: [range(0, DIM).map(() => 0.1)], limit: 5, consistency_level: 'Bounded',
      });
      assertOk(found);
      log.searches++;
    } catch (error) {
      log.failures.push(`flush/search: ${error.message ?? error}`.slice(0, 200));
    }
    await sleep(300);
  }
}

function longestPause(times, from) {
  let longest = 0;
  let previous = from;
  for (const time of times) {
    longest = Math.max(longest, time - previous);
    previous = time;
  }
  return longest;
}

const faults = [
  { service: 'etcd', member: etcdLeaderIndex, downMs: 4_000 },
  { service: 'nats', member: async () => 1, downMs: 6_000 },
  { service: 'rgw', member: async () => 0, downMs: 4_000 },
];

describe('faults of the real backends', { skip: !onBackends && 'needs QUIVER_E2E_BACKENDS', timeout: 300_000 }, () => {
  let server;
  before(async () => { server = await startQuiver(); });
  after(() => server?.cleanup());

  for (const fault of faults) {
    test(`kill -9 of a ${fault.service} member: Quiver keeps serving and loses no acknowledged row`, async () => {
      const collection = `fault_${fault.service}`;
      const client = await server.client({ timeout: 60_000, maxRetries: 0 });
      assertOk(await createCollection(client, {
        collection_name: collection,
        fields: [
          { name: 'id', data_type: DataType.Int64, is_primary_key: true },
          { name: 'vector', data_type: DataType.FloatVector, dim: DIM },
          { name: 'twice', data_type: DataType.Int64 },
        ],
      }));
      await loadCollection(client, collection);

      const log = { acked: [], ackTimes: [], failures: [], searches: 0 };
      let stopped = false;
      const workers = [
        writeUntil(client, collection, () => stopped, log),
        flushAndSearchUntil(await server.client({ timeout: 60_000, maxRetries: 0 }), collection, () => stopped, log),
      ];
      await sleep(1_500);
      const member = await fault.member();
      const killedAt = Date.now();
      await backendScript(fault.service, 'kill', String(member));
      await sleep(fault.downMs);
      await backendScript(fault.service, 'start', String(member));
      const restartedAt = Date.now();
      const ackedAtRestart = log.acked.length;
      // Service must come back without restarting Quiver: wait for fresh acknowledgements.
      for (let waited = 0; log.acked.length < ackedAtRestart + 10 && waited < 60_000; waited += 250) await sleep(250);
      stopped = true;
      await Promise.all(workers);

      const pause = longestPause(log.ackTimes.filter((t) => t >= killedAt), killedAt);
      console.log(`${fault.service} member ${member} killed for ${restartedAt - killedAt} ms: `
        + `${log.acked.length} batches acknowledged, longest pause in acknowledgements ${pause} ms, `
        + `${log.searches} flush+search rounds, ${log.failures.length} failed calls`);
      assert.ok(log.acked.length >= ackedAtRestart + 10,
        `writes must be acknowledged again after the ${fault.service} member is back; failures: ${log.failures.slice(-5).join(' | ')}`);

      const rows = await client.query({
        collection_name: collection, filter: 'id >= 0', output_fields: ['id', 'twice'], consistency_level: 'Strong',
      });
      assertOk(rows);
      const present = new Map();
      const duplicated = [];
      for (const row of rows.data) {
        const id = Number(row.id);
        if (present.has(id)) duplicated.push(id);
        present.set(id, Number(row.twice));
      }
      assert.deepEqual(duplicated.slice(0, 10), [], 'no row may be there twice');
      const missing = log.acked.flatMap((batch) => range(batch * BATCH_ROWS, BATCH_ROWS)).filter((id) => present.get(id) !== 2 * id);
      assert.deepEqual(missing.slice(0, 10), [], `acknowledged rows missing or wrong (${missing.length})`);
    });
  }
});
