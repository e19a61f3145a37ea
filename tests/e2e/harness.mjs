// Starts the real `quiver` binary for end-to-end tests: free ports, a fresh data directory,
// output captured for failure messages, and helpers to stop, kill and restart it.
//
// Test files run in parallel, so every server gets its own ports and temp directory; nothing
// here is shared between servers.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MilvusClient } from '@zilliz/milvus2-sdk-node';
import { backendsEnv, removeBackendsNamespace } from './backends.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const quiverBin = process.env.QUIVER_BIN || path.join(repoRoot, 'build', 'quiver');

const READY_TIMEOUT_MS = 20_000;
const EXIT_TIMEOUT_MS = 15_000;
const OUTPUT_LIMIT = 256 * 1024; // keep the tail: the end of the log explains a failure

// A port nobody listens on right now: the kernel picks it for a throwaway listener.
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function distinctFreePorts(count) {
  const ports = new Set();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

export async function makeTempDir(prefix = 'quiver-e2e-') {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

function assertBinaryExists() {
  if (!existsSync(quiverBin)) {
    throw new Error(`quiver binary not found at ${quiverBin}; run \`make build\` or set QUIVER_BIN`);
  }
}

// Spawns `quiver args...`, collecting stdout and stderr (interleaved) into one string.
export function spawnQuiver(args, { env = {} } = {}) {
  assertBinaryExists();
  const child = spawn(quiverBin, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (chunk) => {
    output += chunk.toString();
    if (output.length > OUTPUT_LIMIT) output = output.slice(-OUTPUT_LIMIT);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
  });
  let hasExited = false;
  exited.then(() => { hasExited = true; });
  return {
    child,
    exited,
    output: () => output,
    hasExited: () => hasExited,
  };
}

// Runs quiver to completion (for commands expected to fail fast); kills it after `timeoutMs`.
export async function runQuiverToExit(args, { env = {}, timeoutMs = 15_000 } = {}) {
  const proc = spawnQuiver(args, { env });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.child.kill('SIGKILL');
  }, timeoutMs);
  const result = await proc.exited;
  clearTimeout(timer);
  return { ...result, timedOut, output: proc.output() };
}

export async function httpGet(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

async function waitForHealthy(proc, healthUrl, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    if (proc.hasExited()) {
      const { code, signal } = await proc.exited;
      throw new Error(`quiver exited (code ${code}, signal ${signal}) before becoming healthy`);
    }
    try {
      const { status, body } = await httpGet(healthUrl);
      if (status === 200) return;
      lastProblem = `GET /healthz answered ${status} ${body.trim()}`;
    } catch (error) {
      lastProblem = `GET /healthz failed: ${error.cause?.code ?? error.message}`;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`quiver not healthy after ${timeoutMs} ms (${lastProblem})`);
}

function withOutput(error, output) {
  error.message += `\n--- quiver output ---\n${output}\n--- end of quiver output ---`;
  return error;
}

// Starts `quiver run standalone` and waits until /healthz answers 200.
//
// opts.config:    YAML text (or a function of {grpcPort, httpPort, dataDir}) passed via --config
// opts.env:       extra environment (object, or a function of the same ports)
// opts.omitFlags: flags not to pass, among 'port', 'http-port', 'data-dir'; the caller then
//                 provides the setting through config or env
// opts.extraArgs: appended to the command line
//
// Returns { grpcAddress, httpUrl, grpcPort, httpPort, dataDir, client(), stop(), kill9(),
// restart(), output(), isRunning(), cleanup() }. cleanup() closes the clients, kills the
// server if it still runs and removes the temp directory; call it from an after() hook.
export async function startQuiver(opts = {}) {
  assertBinaryExists();
  const workDir = await makeTempDir();
  const dataDir = path.join(workDir, 'data');
  await fs.mkdir(dataDir);
  const omit = new Set(opts.omitFlags ?? []);

  let grpcPort;
  let httpPort;
  let proc = null;
  const clients = [];
  let previousOutput = '';

  const settings = () => ({ grpcPort, httpPort, dataDir });

  async function commandLine() {
    const args = ['run', 'standalone'];
    if (!omit.has('data-dir')) args.push('--data-dir', dataDir);
    if (!omit.has('port')) args.push('--port', String(grpcPort));
    if (!omit.has('http-port')) args.push('--http-port', String(httpPort));
    if (opts.config !== undefined) {
      const text = typeof opts.config === 'function' ? opts.config(settings()) : opts.config;
      const configPath = path.join(workDir, 'quiver.yaml');
      await fs.writeFile(configPath, text);
      args.push('--config', configPath);
    }
    args.push(...(opts.extraArgs ?? []));
    return args;
  }

  async function launch() {
    const env = typeof opts.env === 'function' ? opts.env(settings()) : opts.env ?? {};
    proc = spawnQuiver(await commandLine(), { env: { ...backendsEnv(workDir), ...env } });
    try {
      await waitForHealthy(proc, `http://127.0.0.1:${httpPort}/healthz`, READY_TIMEOUT_MS);
    } catch (error) {
      proc.child.kill('SIGKILL');
      await proc.exited;
      throw withOutput(error, proc.output());
    }
  }

  // Another process may grab a port between freePort() and quiver's bind; retry on fresh ports.
  for (let attempt = 1; ; attempt++) {
    [grpcPort, httpPort] = await distinctFreePorts(2);
    try {
      await launch();
      break;
    } catch (error) {
      const portClash = /in use|EADDRINUSE|bind/i.test(proc?.output() ?? '');
      if (!portClash || attempt === 3) {
        await removeBackendsNamespace(workDir);
        await fs.rm(workDir, { recursive: true, force: true });
        throw error;
      }
    }
  }

  async function waitForExit(signal) {
    const current = proc;
    if (current.hasExited()) throw new Error('quiver is not running');
    current.child.kill(signal);
    const timer = setTimeout(() => current.child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
    const { code, signal: bySignal } = await current.exited;
    clearTimeout(timer);
    previousOutput += current.output();
    if (signal !== 'SIGKILL' && bySignal === 'SIGKILL') {
      throw withOutput(new Error(`quiver did not exit within ${EXIT_TIMEOUT_MS} ms of ${signal}`),
        current.output());
    }
    return { code, signal: bySignal };
  }

  return {
    grpcPort,
    httpPort,
    dataDir,
    workDir,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    output: () => previousOutput + (proc && !proc.hasExited() ? proc.output() : ''),
    isRunning: () => proc !== null && !proc.hasExited(),

    // A connected SDK client; `config` is merged into the MilvusClient options.
    async client(config = {}) {
      const client = new MilvusClient({
        address: `127.0.0.1:${grpcPort}`,
        logLevel: 'error',
        ...config,
        // gRPC shares connections between clients by default; one that saw the server die stays
        // in reconnect backoff for a while and would fail a new client's calls after a restart.
        channelOptions: { 'grpc.use_local_subchannel_pool': 1, ...config.channelOptions },
      });
      clients.push(client);
      await client.connectPromise;
      return client;
    },

    // SIGTERM, then the exit code (null if it died by a signal).
    async stop() {
      return (await waitForExit('SIGTERM')).code;
    },

    async kill9() {
      return waitForExit('SIGKILL');
    },

    // Starts again on the same ports and data directory.
    async restart() {
      if (proc && !proc.hasExited()) throw new Error('restart() needs the server stopped first');
      await launch();
    },

    async cleanup() {
      await Promise.allSettled(clients.map((client) => client.closeConnection()));
      if (proc && !proc.hasExited()) {
        proc.child.kill('SIGKILL');
        await proc.exited;
      }
      await removeBackendsNamespace(workDir);
      await fs.rm(workDir, { recursive: true, force: true });
    },
  };
}
