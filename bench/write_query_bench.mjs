// Write-path benchmark (issue #3): insert throughput of 128-dim float vectors in batches of
// 1,000 through the Node SDK, flush and load times, and count(*) / filtered query / point
// query / delete latencies, with the server's RSS along the way.
//
// A benchmark, not a test: it prints figures and never judges timings. It does flag wrong
// answers (a count that does not match the rows inserted), because a fast wrong answer is not
// a figure worth printing.
//
//   node bench/write_query_bench.mjs [--rows N] [--writers W] [--address HOST:PORT] [--json]
//
// Without --address it starts build/quiver (or $QUIVER_BIN) on free ports with a temp data
// directory and removes both afterwards. Run with --help for every option.
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { MilvusClient, DataType, ErrorCode } from '@zilliz/milvus2-sdk-node';
import { startQuiver } from '../tests/e2e/harness.mjs';
import { seededRandom as prng } from '../tests/e2e/vectors.mjs';

const BATCH_ROWS = 1_000;
const DIM = 128;
const CATEGORIES = 100;
const TAG_MAX_LENGTH = 32;
const PROGRESS_EVERY_ROWS = 100_000;
const POINT_QUERY_KEYS = 10;
const DELETE_KEYS = 1_000;
const MB = 1e6; // payload figures are decimal megabytes
const LABEL_WIDTH = 48;

const usage = `Usage: node bench/write_query_bench.mjs [options]
  --rows N           rows to insert (default 1000000), in batches of ${BATCH_ROWS}
  --writers W        concurrent insert streams, one SDK client each (default 1)
  --address H:P      use a running server instead of starting build/quiver
  --metrics-url URL  its HTTP endpoint for RSS (default http://<host of --address>:9091)
  --runs N           measured runs per latency figure (default 100)
  --warmup N         unmeasured runs before them (default 10)
  --delete-runs N    measured deletes of ${DELETE_KEYS} keys each (default 20; each removes rows)
  --seed N           PRNG seed of the data (default 42)
  --keep             leave the collection in place (only with --address)
  --json             print one JSON document on stdout; progress goes to stderr
`;

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      rows: { type: 'string', default: '1000000' },
      writers: { type: 'string', default: '1' },
      address: { type: 'string' },
      'metrics-url': { type: 'string' },
      runs: { type: 'string', default: '100' },
      warmup: { type: 'string', default: '10' },
      'delete-runs': { type: 'string', default: '20' },
      seed: { type: 'string', default: '42' },
      keep: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const integer = (name, minimum) => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < minimum) throw new Error(`--${name} must be an integer >= ${minimum}`);
    return value;
  };
  const positive = (name) => integer(name, 1);
  const options = {
    rows: positive('rows'),
    writers: positive('writers'),
    runs: positive('runs'),
    warmup: integer('warmup', 0),
    deleteRuns: positive('delete-runs'),
    seed: integer('seed', 0) >>> 0,
    address: values.address,
    metricsUrl: values['metrics-url'],
    keep: values.keep,
    json: values.json,
  };
  if (options.rows % BATCH_ROWS !== 0) throw new Error(`--rows must be a multiple of ${BATCH_ROWS}`);
  if (options.address && !options.metricsUrl) {
    options.metricsUrl = `http://${options.address.replace(/:\d+$/, '')}:9091`;
  }
  return options;
}

// ---------------------------------------------------------------- data

const TAG_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

// Batch `index` depends only on (seed, index), so the data is the same whatever the number of
// writers and whichever order their batches finish in.
function makeBatch(seed, index) {
  const random = prng(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ index);
  const rows = new Array(BATCH_ROWS);
  let payloadBytes = 0;
  for (let i = 0; i < BATCH_ROWS; i++) {
    const vector = new Array(DIM);
    for (let d = 0; d < DIM; d++) vector[d] = random();
    let tag = 'tag_';
    const tagLength = 4 + Math.floor(random() * (TAG_MAX_LENGTH - 3));
    for (let c = 4; c < tagLength; c++) tag += TAG_ALPHABET[Math.floor(random() * TAG_ALPHABET.length)];
    rows[i] = {
      id: index * BATCH_ROWS + i,
      vector,
      category: Math.floor(random() * CATEGORIES),
      price: random() * 100,
      tag,
    };
    payloadBytes += 8 + DIM * 4 + 8 + 4 + tag.length; // Int64 id, float32s, Int64, Float, ASCII tag
  }
  return { rows, payloadBytes };
}

// What the filtered reads must answer, tallied while the data is generated.
function newExpectations() {
  return { inCategories123: 0, category7PriceBelow50: 0 };
}

function tally(expectations, rows) {
  for (const row of rows) {
    if (row.category >= 1 && row.category <= 3) expectations.inCategories123 += 1;
    // Float columns store float32: compare what the server will compare.
    if (row.category === 7 && Math.fround(row.price) < 50) expectations.category7PriceBelow50 += 1;
  }
}

const fields = [
  { name: 'id', data_type: DataType.Int64, is_primary_key: true, autoID: false },
  { name: 'vector', data_type: DataType.FloatVector, dim: DIM },
  { name: 'category', data_type: DataType.Int64 },
  { name: 'price', data_type: DataType.Float },
  { name: 'tag', data_type: DataType.VarChar, max_length: TAG_MAX_LENGTH },
];

// ---------------------------------------------------------------- helpers

let log = (line) => process.stdout.write(`${line}\n`);

const now = () => performance.now();

class CallFailed extends Error {}

// The SDK returns a status (or a response carrying one) for server-side failures.
function checkStatus(response, what) {
  const status = response?.status ?? response;
  if (status?.error_code !== undefined && status.error_code !== ErrorCode.SUCCESS) {
    throw new CallFailed(`${what}: code ${status.code} ${status.error_code} "${status.reason}"`);
  }
  return response;
}

function describeError(error) {
  if (error instanceof Error) return error.message;
  if (error && typeof error === 'object' && 'reason' in error) return `code ${error.code} "${error.reason}"`;
  return String(error);
}

async function readServerMetrics(metricsUrl) {
  try {
    const response = await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
    const text = await response.text();
    const value = (series) => {
      const at = text.indexOf(`\n${series} `);
      return at < 0 ? null : Number(text.slice(at + series.length + 2, text.indexOf('\n', at + 1)));
    };
    return {
      rssBytes: value('process_resident_memory_bytes'),
      cpuSeconds: value('process_cpu_seconds_total'),
      // Quiver's proxy histogram: how long the server spent on Insert calls.
      insertSeconds: value('quiver_proxy_request_duration_seconds_sum{method="Insert"}'),
      insertCalls: value('quiver_proxy_request_duration_seconds_count{method="Insert"}'),
    };
  } catch {
    return { rssBytes: null, cpuSeconds: null, insertSeconds: null, insertCalls: null };
  }
}

const formatMiB = (bytes) => (bytes === null ? 'n/a' : `${(bytes / 2 ** 20).toFixed(0)} MiB`);
const formatMs = (ms) => (ms === null || ms === undefined ? 'n/a' : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`);

function percentile(sortedValues, fraction) {
  const index = Math.min(sortedValues.length - 1, Math.ceil(fraction * sortedValues.length) - 1);
  return sortedValues[Math.max(0, index)];
}

function diskUsageBytes(directory) {
  try {
    return Number(execFileSync('du', ['-sb', directory], { encoding: 'utf8' }).split('\t')[0]);
  } catch {
    return null;
  }
}

const difference = (after, before) => (after === null || before === null ? null : after - before);

function serverMsPerCall(before, after) {
  const calls = difference(after.insertCalls, before.insertCalls ?? 0);
  const seconds = difference(after.insertSeconds, before.insertSeconds ?? 0);
  return calls ? (seconds / calls) * 1000 : null;
}

// ---------------------------------------------------------------- phases

async function insertAll(clients, collectionName, options, metricsUrl) {
  const totalBatches = options.rows / BATCH_ROWS;
  const expectations = newExpectations();
  const progress = [];
  let nextBatch = 0;
  let rowsDone = 0;
  let bytesDone = 0;
  let generateMs = 0;
  const started = now();
  let mark = { ms: started, rows: 0, bytes: 0 };
  const clientCpuBefore = process.cpuUsage();
  const serverBefore = await readServerMetrics(metricsUrl);

  async function reportProgress() {
    const at = now();
    const intervalSeconds = (at - mark.ms) / 1000;
    const totalSeconds = (at - started) / 1000;
    const { rssBytes } = await readServerMetrics(metricsUrl);
    const entry = {
      rows: rowsDone,
      seconds: totalSeconds,
      intervalRowsPerSecond: (rowsDone - mark.rows) / intervalSeconds,
      intervalMBPerSecond: (bytesDone - mark.bytes) / MB / intervalSeconds,
      rowsPerSecond: rowsDone / totalSeconds,
      serverRssBytes: rssBytes,
    };
    progress.push(entry);
    log(`  ${String(rowsDone).padStart(9)} rows  ${totalSeconds.toFixed(1).padStart(7)} s  `
      + `last ${Math.round(entry.intervalRowsPerSecond).toString().padStart(7)} rows/s `
      + `${entry.intervalMBPerSecond.toFixed(1).padStart(6)} MB/s  `
      + `overall ${Math.round(entry.rowsPerSecond).toString().padStart(7)} rows/s  server RSS ${formatMiB(rssBytes)}`);
    mark = { ms: at, rows: rowsDone, bytes: bytesDone };
  }

  async function writer(client) {
    while (nextBatch < totalBatches) {
      const index = nextBatch++;
      const generateStart = now();
      const { rows, payloadBytes } = makeBatch(options.seed, index);
      generateMs += now() - generateStart;
      tally(expectations, rows);
      const response = checkStatus(await client.insert({ collection_name: collectionName, data: rows }),
        `insert of batch ${index}`);
      if (Number(response.insert_cnt) !== rows.length) {
        throw new CallFailed(`insert of batch ${index}: insert_cnt ${response.insert_cnt}, sent ${rows.length}`);
      }
      const before = rowsDone;
      rowsDone += rows.length;
      bytesDone += payloadBytes;
      if (Math.floor(rowsDone / PROGRESS_EVERY_ROWS) > Math.floor(before / PROGRESS_EVERY_ROWS)) {
        await reportProgress();
      }
    }
  }

  await Promise.all(clients.map(writer));
  const seconds = (now() - started) / 1000;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const serverAfter = await readServerMetrics(metricsUrl);
  return {
    rows: rowsDone,
    payloadMB: bytesDone / MB,
    seconds,
    rowsPerSecond: rowsDone / seconds,
    MBPerSecond: bytesDone / MB / seconds,
    clientCpuSeconds: (clientCpu.user + clientCpu.system) / 1e6,
    clientDataGenerationSeconds: generateMs / 1000,
    serverCpuSeconds: difference(serverAfter.cpuSeconds, serverBefore.cpuSeconds),
    serverMsPerInsertCall: serverMsPerCall(serverBefore, serverAfter),
    progress,
    expectations,
  };
}

// flushSync waits for the segments the Flush call names. A second Flush gives a flush_ts after
// every insert, and GetFlushState by collection and flush_ts covers every segment holding older
// rows, including any sealed earlier that flushSync did not wait for. Returns the seconds from
// `flushStarted` until that reports flushed, and whether it did so at the first check.
async function waitUntilPersisted(client, collectionName, flushStarted) {
  const flush = checkStatus(await client.flush({ collection_names: [collectionName] }), 'Flush');
  const flushTs = flush.coll_flush_ts?.[collectionName];
  for (let check = 0; ; check++) {
    const state = checkStatus(await client.getFlushState({ collection_name: collectionName, flush_ts: flushTs }),
      'GetFlushState');
    if (state.flushed) return { seconds: (now() - flushStarted) / 1000, atFirstCheck: check === 0 };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// Milvus needs a vector index before LoadCollection; FLAT is the one that costs no build time.
async function createVectorIndex(client, collectionName) {
  const started = now();
  try {
    const response = await client.createIndex({
      collection_name: collectionName, field_name: 'vector', index_type: 'FLAT', metric_type: 'L2',
    });
    checkStatus(response, 'CreateIndex');
    return { outcome: 'created FLAT/L2', seconds: (now() - started) / 1000 };
  } catch (error) {
    const message = describeError(error);
    if (/unimplemented/i.test(message)) return { outcome: 'skipped: service unimplemented', seconds: null };
    throw error;
  }
}

// loadCollectionSync sleeps 400 ms between progress checks, which hides a short load; this
// loads again from the flushed segments and polls finely.
async function reload(client, collectionName) {
  checkStatus(await client.releaseCollection({ collection_name: collectionName }), 'ReleaseCollection');
  const started = now();
  checkStatus(await client.loadCollectionAsync({ collection_name: collectionName }), 'LoadCollection');
  for (;;) {
    const response = checkStatus(await client.getLoadState({ collection_name: collectionName }), 'GetLoadState');
    if (response.state === 'LoadStateLoaded') return (now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// Runs `operation(i)` warmup + runs times and summarises the measured ones. `check` looks at
// the answer of every run, warm-ups included, and returns a problem description or null.
async function measure(name, { runs, warmup }, operation, check = () => null) {
  const latencies = [];
  const problems = new Set();
  try {
    for (let i = 0; i < warmup + runs; i++) {
      const started = now();
      const answer = await operation(i);
      const elapsed = now() - started;
      if (i >= warmup) latencies.push(elapsed);
      const problem = check(answer);
      if (problem) problems.add(problem);
    }
  } catch (error) {
    problems.add(`failed: ${describeError(error)}`);
  }
  latencies.sort((a, b) => a - b);
  const result = {
    name,
    runs: latencies.length,
    p50Ms: latencies.length ? percentile(latencies, 0.5) : null,
    p99Ms: latencies.length ? percentile(latencies, 0.99) : null,
    maxMs: latencies.length ? latencies[latencies.length - 1] : null,
    problems: [...problems],
  };
  log(`  ${name.padEnd(LABEL_WIDTH)} p50 ${formatMs(result.p50Ms).padStart(10)}  p99 ${formatMs(result.p99Ms).padStart(10)}`
    + `  max ${formatMs(result.maxMs).padStart(10)}  (${result.runs} runs)`);
  for (const problem of result.problems) log(`    PROBLEM: ${problem}`);
  return result;
}

async function query(client, request) {
  return checkStatus(await client.query(request), `query ${JSON.stringify(request.filter ?? '')}`);
}

async function countStar(client, collectionName, consistency, filter = '') {
  const response = await query(client, {
    collection_name: collectionName, filter, output_fields: ['count(*)'], consistency_level: consistency,
  });
  return Number(response.data[0]?.['count(*)']);
}

const expectEqual = (what, expected) => (actual) =>
  (actual === expected ? null : `${what}: got ${actual}, expected ${expected}`);

async function measureReads(client, collectionName, options, inserted) {
  const { rows, expectations } = inserted;
  const settings = { runs: options.runs, warmup: options.warmup };
  const results = [];
  results.push(await measure('count(*) Strong', settings,
    () => countStar(client, collectionName, 'Strong'), expectEqual('count(*)', rows)));
  results.push(await measure('count(*) Bounded', settings,
    () => countStar(client, collectionName, 'Bounded'), expectEqual('count(*)', rows)));

  const selective = 'category == 7 and price < 50';
  results.push(await measure(`query "${selective}" limit 100`, settings,
    () => query(client, {
      collection_name: collectionName, filter: selective, output_fields: ['id', 'category', 'price'],
      limit: 100, consistency_level: 'Bounded',
    }),
    (response) => {
      const wanted = Math.min(100, expectations.category7PriceBelow50);
      if (response.data.length !== wanted) return `returned ${response.data.length} rows, expected ${wanted}`;
      const stray = response.data.find((row) => Number(row.category) !== 7 || !(row.price < 50));
      return stray ? `row ${JSON.stringify(stray)} does not match the filter` : null;
    }));

  results.push(await measure('count(*) "category in [1,2,3]"', settings,
    () => countStar(client, collectionName, 'Bounded', 'category in [1,2,3]'),
    expectEqual('filtered count', expectations.inCategories123)));

  const pickKeys = prng(options.seed + 1);
  results.push(await measure(`query id in [${POINT_QUERY_KEYS} keys]`, settings,
    () => {
      const keys = Array.from({ length: POINT_QUERY_KEYS }, () => Math.floor(pickKeys() * rows));
      return query(client, {
        collection_name: collectionName, filter: `id in [${keys.join(',')}]`,
        output_fields: ['id', 'category', 'price', 'tag'], consistency_level: 'Bounded',
      }).then((response) => ({ response, distinct: new Set(keys).size }));
    },
    ({ response, distinct }) => (response.data.length === distinct
      ? null : `returned ${response.data.length} rows for ${distinct} keys`)));
  return results;
}

// Each run deletes DELETE_KEYS keys spread over the whole key range (so every segment is
// touched), disjoint from the other runs' keys.
async function measureDeletes(client, collectionName, options, rows) {
  const stride = Math.floor(rows / DELETE_KEYS);
  const warmup = Math.min(2, options.warmup);
  const runs = Math.min(options.deleteRuns, stride - warmup);
  if (runs < 1) {
    log(`  delete skipped: ${rows} rows are too few for disjoint deletes of ${DELETE_KEYS} keys`);
    return { result: null, deletedRows: 0 };
  }
  let deletedRows = 0;
  const result = await measure(`delete id in [${DELETE_KEYS} keys]`, { runs, warmup }, async (run) => {
    const ids = Array.from({ length: DELETE_KEYS }, (_, j) => run + j * stride);
    const response = checkStatus(await client.delete({ collection_name: collectionName, ids }), 'delete');
    deletedRows += ids.length;
    return response;
  }, (response) => (Number(response.delete_cnt) === DELETE_KEYS
    ? null : `delete_cnt ${response.delete_cnt}, expected ${DELETE_KEYS}`));
  return { result, deletedRows };
}

// ---------------------------------------------------------------- report

const RSS_MOMENTS = {
  atStart: 'at start', afterInsert: 'after insert', afterFlush: 'after flush', afterLoad: 'after load',
  atEnd: 'at the end',
};

const seconds = (value, digits = 2) => (value === undefined ? 'not reached' : `${value.toFixed(digits)} s`);

// Prints whatever the run got to, so that an aborted run still shows its figures.
function printSummary(report) {
  const { insert } = report;
  const row = (label, value) => `  ${label.padEnd(LABEL_WIDTH)} ${value}`;
  const lines = ['', `Summary: ${report.options.rows} rows requested, ${DIM}-dim FloatVector + Int64/Float/VarChar, `
    + `batches of ${BATCH_ROWS}, ${report.options.writers} writer(s), server ${report.server}`];
  if (insert) {
    lines.push(row('insert', `${Math.round(insert.rowsPerSecond)} rows/s, ${insert.MBPerSecond.toFixed(1)} MB/s `
      + `(${insert.rows} rows, ${insert.payloadMB.toFixed(0)} MB in ${insert.seconds.toFixed(1)} s)`));
    lines.push(row('  CPU during insert', `client ${insert.clientCpuSeconds.toFixed(1)} s `
      + `(data generation ${insert.clientDataGenerationSeconds.toFixed(1)} s), server `
      + `${insert.serverCpuSeconds === null ? 'n/a' : `${insert.serverCpuSeconds.toFixed(1)} s`}`));
    if (insert.serverMsPerInsertCall !== null) {
      lines.push(row('  server time per Insert call (proxy metric)', `${insert.serverMsPerInsertCall.toFixed(1)} ms mean`));
    }
  } else {
    lines.push(row('insert', 'not completed'));
  }
  lines.push(row('flush (flushSync, polls every 100 ms)', seconds(report.flushSeconds)));
  lines.push(row('  until every segment is persisted', seconds(report.persistedSeconds)));
  if (report.index) {
    lines.push(row('create index', `${report.index.outcome}`
      + `${report.index.seconds === null ? '' : ` in ${report.index.seconds.toFixed(2)} s`}`));
  }
  lines.push(row('load (loadCollectionSync, polls every 400 ms)', seconds(report.loadSeconds)));
  lines.push(row('release + load again (polled every 20 ms)', seconds(report.reloadSeconds)));
  for (const [moment, bytes] of Object.entries(report.serverRss)) {
    lines.push(row(`server RSS ${RSS_MOMENTS[moment]}`, formatMiB(bytes)));
  }
  if (report.dataDirBytes !== null) lines.push(row('data directory after flush', formatMiB(report.dataDirBytes)));
  if (report.latencies.length) {
    lines.push(row('latency', `${'p50'.padStart(10)} ${'p99'.padStart(10)}`));
    for (const result of report.latencies) {
      lines.push(row(result.name, `${formatMs(result.p50Ms).padStart(10)} ${formatMs(result.p99Ms).padStart(10)}`
        + `${result.problems.length ? '  (PROBLEM, see above)' : ''}`));
    }
  }
  for (const problem of report.problems) lines.push(`  PROBLEM: ${problem}`);
  log(lines.join('\n'));
}

// ---------------------------------------------------------------- main

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (options.json) log = (line) => process.stderr.write(`${line}\n`);

  const server = options.address ? null : await startQuiver();
  const address = options.address ?? server.grpcAddress;
  const metricsUrl = options.metricsUrl ?? server.httpUrl;
  const clients = [];
  const collectionName = `bench_write_${process.pid}_${Date.now()}`;
  const report = {
    options, server: address, problems: [], serverRss: {}, dataDirBytes: null, latencies: [],
  };

  try {
    for (let i = 0; i < options.writers; i++) {
      // Without a local subchannel pool, grpc-js would share one connection among the clients.
      const client = new MilvusClient({
        address, logLevel: 'error', channelOptions: { 'grpc.use_local_subchannel_pool': 1 },
      });
      await client.connectPromise;
      clients.push(client);
    }
    const [client] = clients;
    report.serverRss.atStart = (await readServerMetrics(metricsUrl)).rssBytes;
    checkStatus(await client.createCollection({
      collection_name: collectionName, fields, consistency_level: 'Bounded',
    }), 'CreateCollection');
    log(`collection ${collectionName} on ${address}; inserting ${options.rows} rows with ${options.writers} writer(s)`);

    report.insert = await insertAll(clients, collectionName, options, metricsUrl);
    report.serverRss.afterInsert = (await readServerMetrics(metricsUrl)).rssBytes;
    log(`insert: ${Math.round(report.insert.rowsPerSecond)} rows/s, ${report.insert.MBPerSecond.toFixed(1)} MB/s`);

    let started = now();
    checkStatus(await client.flushSync({ collection_names: [collectionName] }), 'Flush');
    report.flushSeconds = (now() - started) / 1000;
    const persisted = await waitUntilPersisted(client, collectionName, started);
    report.persistedSeconds = persisted.seconds;
    if (!persisted.atFirstCheck) {
      report.problems.push(`flushSync returned after ${report.flushSeconds.toFixed(2)} s with segments not yet `
        + `persisted; GetFlushState by flush_ts reported flushed after ${persisted.seconds.toFixed(2)} s`);
    }
    report.serverRss.afterFlush = (await readServerMetrics(metricsUrl)).rssBytes;
    if (server) report.dataDirBytes = diskUsageBytes(server.dataDir);
    log(`flush: ${report.flushSeconds.toFixed(2)} s, persisted after ${report.persistedSeconds.toFixed(2)} s`);

    report.index = await createVectorIndex(client, collectionName);
    log(`index: ${report.index.outcome}`);
    started = now();
    await client.loadCollectionSync({ collection_name: collectionName });
    report.loadSeconds = (now() - started) / 1000;
    report.serverRss.afterLoad = (await readServerMetrics(metricsUrl)).rssBytes;
    report.reloadSeconds = await reload(client, collectionName);
    log(`load: ${report.loadSeconds.toFixed(2)} s, release + load again: ${report.reloadSeconds.toFixed(2)} s`);
    log(`latencies (${options.runs} runs after ${options.warmup} warm-ups):`);

    report.latencies.push(...await measureReads(client, collectionName, options, report.insert));
    const deletes = await measureDeletes(client, collectionName, options, report.insert.rows);
    if (deletes.result) {
      report.latencies.push(deletes.result);
      report.latencies.push(await measure('count(*) Strong after the deletes', options,
        () => countStar(client, collectionName, 'Strong'),
        expectEqual('count(*) after deletes', report.insert.rows - deletes.deletedRows)));
    }
    report.serverRss.atEnd = (await readServerMetrics(metricsUrl)).rssBytes;
  } catch (error) {
    report.problems.push(`aborted: ${describeError(error)}`);
    if (server) log(`--- last server output ---\n${server.output().slice(-4000)}`);
  } finally {
    if (options.address && !options.keep) {
      await clients[0]?.dropCollection({ collection_name: collectionName }).catch(() => {});
    }
    await Promise.allSettled(clients.map((client) => client.closeConnection()));
    await server?.cleanup();
  }

  printSummary(report);
  if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  const wrongAnswers = report.latencies.some((result) => result.problems.length);
  process.exitCode = report.problems.length || wrongAnswers ? 1 : 0;
}

try {
  await main();
} catch (error) {
  process.stderr.write(`${describeError(error)}\n(--help lists the options)\n`);
  process.exitCode = 2;
}
