// Backends mode of the e2e suite: when QUIVER_E2E_BACKENDS names the quiver.env that
// `scripts/backends.sh up` wrote, every server the harness starts runs on the real etcd,
// NATS JetStream and radosgw instead of the embedded stores — each in its own namespace
// (etcd root path, object key prefix, stream prefix), removed again by cleanup().
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { connect } from 'nats';

const envFile = process.env.QUIVER_E2E_BACKENDS || '';

function parseEnvFile(file) {
  const vars = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) vars[match[1]] = match[2];
  }
  return vars;
}

const shared = envFile ? parseEnvFile(envFile) : null;

export const onBackends = shared !== null;

// The services' settings as QUIVER_* variables (null in embedded mode).
export const backendsSettings = shared;

// The QUIVER_* variables that put one server (identified by its work directory) on the
// services, or {} in embedded mode.
export function backendsEnv(workDir) {
  if (!shared) return {};
  const name = path.basename(workDir).replace(/[^A-Za-z0-9_-]/g, '_');
  return {
    ...shared,
    QUIVER_ETCD_ROOTPATH: `e2e/${name}`,
    QUIVER_MINIO_ROOTPATH: `e2e/${name}`,
    QUIVER_NATSMQ_STREAMPREFIX: `e2e_${name}`,
  };
}

// Deletes what one server left in etcd and NATS (objects stay: disk is cheap, and a
// listing per test would cost more than they do).
export async function removeBackendsNamespace(workDir) {
  if (!shared) return;
  const env = backendsEnv(workDir);
  await Promise.allSettled([deleteEtcdPrefix(env), deleteStreams(env)]);
}

async function deleteEtcdPrefix(env) {
  const endpoint = env.QUIVER_ETCD_ENDPOINTS.split(',')[0];
  const prefix = Buffer.from(`${env.QUIVER_ETCD_ROOTPATH}/`);
  const end = Buffer.from(prefix);
  end[end.length - 1] += 1;
  await fetch(`http://${endpoint}/v3/kv/deleterange`, {
    method: 'POST',
    body: JSON.stringify({ key: prefix.toString('base64'), range_end: end.toString('base64') }),
    signal: AbortSignal.timeout(5_000),
  });
}

async function deleteStreams(env) {
  const nc = await connect({ servers: env.QUIVER_NATSMQ_SERVERS.split(','), timeout: 5_000 });
  try {
    const jsm = await nc.jetstreamManager();
    for await (const info of jsm.streams.list()) {
      if (info.config.name.startsWith(env.QUIVER_NATSMQ_STREAMPREFIX)) await jsm.streams.delete(info.config.name);
    }
  } finally {
    await nc.close();
  }
}
