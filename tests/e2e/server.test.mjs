// The process a user runs: health and metrics endpoints, version and health RPCs, shutdown,
// port clashes, configuration errors, CLI roles, and RPCs that are not implemented yet.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  freePort, httpGet, makeTempDir, runQuiverToExit, startQuiver,
} from './harness.mjs';
import {
  Code, DataType, assertError, assertOk, createCollection, rawCall, simpleFields, uniqueName,
} from './milvus.mjs';

// Prometheus text exposition → [{ name, labels, value }]; comment lines are skipped.
function parsePrometheus(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/);
    assert.ok(match, `not a Prometheus sample line: ${line}`);
    const labels = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key] = value;
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

const mentionsRpc = (sample, rpc) => Object.values(sample.labels).some((value) => value.endsWith(rpc));

// Per metric name, the summed value of the request-count series labelled with `rpc`.
function requestCounts(samples, rpc) {
  const counts = new Map();
  for (const sample of samples) {
    if (!mentionsRpc(sample, rpc) || sample.name.endsWith('_bucket') || sample.name.endsWith('_sum')) continue;
    if (!/count|total/.test(sample.name)) continue;
    counts.set(sample.name, (counts.get(sample.name) ?? 0) + sample.value);
  }
  return counts;
}

async function scrapeMetrics(server) {
  const response = await httpGet(`${server.httpUrl}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
  return parsePrometheus(response.body);
}

const tempDirs = [];
after(() => Promise.all(tempDirs.map((dir) => fs.rm(dir, { recursive: true, force: true }))));

async function tempDir() {
  const dir = await makeTempDir();
  tempDirs.push(dir);
  return dir;
}

// Arguments for a server that cannot start anyway; the ports are free and the dir is fresh.
async function standaloneArgs(overrides = {}) {
  const dataDir = overrides.dataDir ?? path.join(await tempDir(), 'data');
  return [
    '--data-dir', dataDir,
    '--port', String(overrides.port ?? await freePort()),
    '--http-port', String(overrides.httpPort ?? await freePort()),
  ];
}

async function writeConfig(text) {
  const file = path.join(await tempDir(), 'quiver.yaml');
  await fs.writeFile(file, text);
  return file;
}

function assertFailedClearly(result, mention, what) {
  assert.equal(result.timedOut, false, `${what}: quiver kept running instead of failing\n${result.output}`);
  assert.notEqual(result.code, 0, `${what}: expected a non-zero exit\n${result.output}`);
  assert.equal(result.signal, null, `${what}: died by signal ${result.signal}\n${result.output}`);
  assert.match(result.output, mention, `${what}: the error message does not say what is wrong`);
}

describe('a running standalone server', () => {
  let server;
  let client;

  before(async () => {
    server = await startQuiver();
    client = await server.client();
  });
  after(() => server?.cleanup());

  test('GET /healthz answers 200 OK', async () => {
    const response = await httpGet(`${server.httpUrl}/healthz`);
    assert.equal(response.status, 200);
    assert.equal(response.body.trim(), 'OK');
  });

  test('GET /metrics counts each RPC and records its latency', async () => {
    const before = requestCounts(await scrapeMetrics(server), 'ShowCollections');
    for (let i = 0; i < 3; i++) assertOk(await client.showCollections());
    const samples = await scrapeMetrics(server);
    const afterCounts = requestCounts(samples, 'ShowCollections');
    const grewByThree = [...afterCounts].filter(([name, value]) => value - (before.get(name) ?? 0) === 3);
    assert.ok(grewByThree.length > 0,
      `no request counter for ShowCollections grew by 3: before ${JSON.stringify([...before])}, ` +
      `after ${JSON.stringify([...afterCounts])}`);
    const latency = samples.filter((s) => mentionsRpc(s, 'ShowCollections') &&
      (s.name.endsWith('_bucket') || s.name.endsWith('_sum') || /latency|duration|seconds/.test(s.name)));
    assert.ok(latency.length > 0, 'no latency series for ShowCollections');
  });

  test('GetVersion reports a version', async () => {
    const response = assertOk(await client.getVersion(), 'GetVersion');
    assert.match(response.version, /^v?\d+\.\d+\.\d+/);
  });

  test('CheckHealth reports healthy', async () => {
    const response = assertOk(await client.checkHealth(), 'CheckHealth');
    assert.equal(response.isHealthy, true);
    assert.deepEqual(response.reasons, []);
  });

  test('RPCs outside this milestone answer "not implemented" and the server stays up', async () => {
    const name = uniqueName('unimpl');
    assertOk(await createCollection(client, { collection_name: name, fields: simpleFields(4) }));
    const notImplemented = { code: Code.ServiceUnimplemented, reason: /not implemented|unimplemented/i };

    assertError(await rawCall(client, 'CreateResourceGroup', { resource_group: 'rg1' }), notImplemented,
      'CreateResourceGroup');
    assertError(await rawCall(client, 'ListImportTasks', { collection_name: name }), notImplemented, 'ListImportTasks');

    assert.equal((await httpGet(`${server.httpUrl}/healthz`)).status, 200);
    assert.equal(assertOk(await client.checkHealth()).isHealthy, true);
    assertOk(await client.describeCollection({ collection_name: name }), 'DescribeCollection after');
  });

  test('a second instance on the same gRPC port fails and names the port', async () => {
    const result = await runQuiverToExit(['run', 'standalone', ...await standaloneArgs({ port: server.grpcPort })]);
    assertFailedClearly(result, new RegExp(`${server.grpcPort}|address already in use`, 'i'), 'gRPC port clash');
    assert.equal((await httpGet(`${server.httpUrl}/healthz`)).status, 200, 'first instance hurt by the second');
  });

  test('a second instance on the same HTTP port fails and names the port', async () => {
    const result = await runQuiverToExit(['run', 'standalone', ...await standaloneArgs({ httpPort: server.httpPort })]);
    assertFailedClearly(result, new RegExp(`${server.httpPort}|address already in use`, 'i'), 'HTTP port clash');
    assertOk(await client.getVersion(), 'first instance after the clash');
  });

  test('a second instance on the same data directory fails instead of sharing it', async () => {
    const result = await runQuiverToExit(['run', 'standalone', ...await standaloneArgs({ dataDir: server.dataDir })]);
    assertFailedClearly(result, /lock|already|in use/i, 'data directory clash');
    assertOk(await client.showCollections(), 'first instance after the clash');
  });
});

describe('shutdown', () => {
  test('SIGTERM with a connected client exits 0 and frees the ports', async () => {
    const server = await startQuiver();
    try {
      const client = await server.client();
      assertOk(await client.showCollections());
      const started = Date.now();
      assert.equal(await server.stop(), 0, `exit code after SIGTERM\n${server.output()}`);
      assert.ok(Date.now() - started < 10_000, 'shutdown took more than 10 s');
      // The ports are free again: the same server restarts on them.
      await server.restart();
      assertOk(await (await server.client()).showCollections(), 'after restart on the same ports');
    } finally {
      await server.cleanup();
    }
  });
});

describe('configuration', () => {
  test('the config file sets the gRPC port when no flag is given', async () => {
    const server = await startQuiver({
      omitFlags: ['port'],
      config: ({ grpcPort }) => `proxy:\n  port: ${grpcPort}\n`,
    });
    try {
      assertOk(await (await server.client()).getVersion());
    } finally {
      await server.cleanup();
    }
  });

  test('flags win over the environment, which wins over the config file', async () => {
    const [fileOnlyPort, envOnlyPort] = [await freePort(), await freePort()];
    const flagged = await startQuiver({
      config: `proxy:\n  port: ${fileOnlyPort}\n`,
      env: { QUIVER_PROXY_PORT: String(envOnlyPort) },
    });
    try {
      assertOk(await (await flagged.client()).getVersion(), 'gRPC on the --port flag');
    } finally {
      await flagged.cleanup();
    }
    const fromEnv = await startQuiver({
      omitFlags: ['port'],
      config: `proxy:\n  port: ${fileOnlyPort}\n`,
      env: ({ grpcPort }) => ({ QUIVER_PROXY_PORT: String(grpcPort) }),
    });
    try {
      assertOk(await (await fromEnv.client()).getVersion(), 'gRPC on QUIVER_PROXY_PORT');
    } finally {
      await fromEnv.cleanup();
    }
  });

  const badConfigs = [
    ['an unknown key', 'proxy:\n  prot: 19530\n', /prot/],
    ['an unknown section', 'proxyy:\n  port: 19530\n', /proxyy/],
    ['a value of the wrong type', 'proxy:\n  port: not-a-number\n', /port/],
    ['an invalid log level', 'log:\n  level: loudest\n', /level|loudest/],
    ['malformed YAML', 'proxy: [unclosed\n', /yaml|parse|quiver\.yaml/i],
  ];
  for (const [what, yaml, mention] of badConfigs) {
    test(`a config file with ${what} is a clear startup error`, async () => {
      const configFile = await writeConfig(yaml);
      const result = await runQuiverToExit(['run', 'standalone', '--config', configFile, ...await standaloneArgs()]);
      assertFailedClearly(result, mention, what);
    });
  }

  test('a missing config file is a clear startup error', async () => {
    const missing = path.join(await tempDir(), 'nowhere.yaml');
    const result = await runQuiverToExit(['run', 'standalone', '--config', missing, ...await standaloneArgs()]);
    assertFailedClearly(result, /nowhere\.yaml/, 'missing config file');
  });
});

describe('command line', () => {
  test('an unknown role is a clear error', async () => {
    const result = await runQuiverToExit(['run', 'bogusrole', ...await standaloneArgs()]);
    assertFailedClearly(result, /bogusrole/, 'unknown role');
  });

  test('a role that cannot run yet says so instead of starting', async () => {
    const result = await runQuiverToExit(['run', 'querynode', ...await standaloneArgs()]);
    assertFailedClearly(result, /querynode/, 'querynode role');
  });

  test('an unknown flag is a clear error', async () => {
    const result = await runQuiverToExit(['run', 'standalone', '--no-such-flag', ...await standaloneArgs()]);
    assertFailedClearly(result, /no-such-flag/, 'unknown flag');
  });
});
