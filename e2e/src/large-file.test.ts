// A large (200 MiB) sdist streams through the proxy both ways with flat memory (issue 4: "bodies
// stream both ways, never buffered"). The file is made of random bytes streamed to disk in the temp
// dir (never held in memory here either), uploaded through the proxy (forwarded to the master) with
// a streamed multipart body, replicated to both replicas, then downloaded through the proxy from
// each replica in turn (host A's replica drained for the second download) and hashed as it
// streams. The proxy's, the replicas' and the master's RSS (/proc/PID/status VmRSS) are sampled
// every 100 ms throughout.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import {
  ApiClient, authHeaders, createIndex, createUser, describeResponse, projectJson, resolveFileUrl, resultOf, type Credentials,
} from './harness.js';
import { LoopbackCluster, RssSampler, proxyBackends, waitFor, waitProxyBackends, withClusterLogs } from '@wheelhouse/testing';

const ROOT_PASSWORD = 'large-root-secret';
const USER = 'big';
const PASSWORD = 'big-e2e-pw';
const INDEX = `${USER}/dev`;
const PROJECT = 'wh-large-demo';
const VERSION = '1.0.0';
const FILENAME = `wh_large_demo-${VERSION}.tar.gz`;
const SIZE = 200 * 1024 * 1024;
const CHUNK = 1024 * 1024;
/** Flat memory: the proxy's peak RSS stays within this of its baseline while 200 MiB pass. */
const PROXY_GROWTH_LIMIT = 100 * 1024 * 1024;
/** The replicas store and serve the file: bounded, if less strictly. */
const REPLICA_GROWTH_LIMIT = 150 * 1024 * 1024;
const MB = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MB`;

let cluster: LoopbackCluster | undefined;
let failed = false;
const guarded = (fn: (t: TestContext) => Promise<void>) => withClusterLogs(() => cluster, () => (failed = true), fn);

const big = { path: '', sha256: '', md5: '' };

/** Writes SIZE random bytes to `path` chunk by chunk, hashing as it goes. */
async function writeRandomFile(path: string): Promise<{ sha256: string; md5: string }> {
  const sha = createHash('sha256');
  const md5 = createHash('md5');
  const out = createWriteStream(path);
  for (let written = 0; written < SIZE; written += CHUNK) {
    const chunk = randomBytes(Math.min(CHUNK, SIZE - written));
    sha.update(chunk);
    md5.update(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  out.end();
  await finished(out);
  return { sha256: sha.digest('hex'), md5: md5.digest('hex') };
}

/** A twine-style legacy upload whose multipart body streams the file from disk. */
function streamedUpload(indexUrl: string, auth: Credentials): Promise<{ status: number; text: string; serial: number | undefined; headers: Record<string, unknown> }> {
  const boundary = `----wheelhouse-e2e-${randomBytes(12).toString('hex')}`;
  const fields: Array<[string, string]> = [
    [':action', 'file_upload'], ['protocol_version', '1'], ['metadata_version', '2.1'], ['name', PROJECT], ['version', VERSION],
    ['summary', 'a large file for the proxy streaming test'], ['filetype', 'sdist'], ['pyversion', 'source'],
    ['md5_digest', big.md5], ['sha256_digest', big.sha256],
  ];
  const head = Buffer.from(
    fields.map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('') +
      `--${boundary}\r\nContent-Disposition: form-data; name="content"; filename="${FILENAME}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const url = new URL(indexUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname, port: url.port, path: url.pathname, method: 'POST',
        headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': head.length + SIZE + tail.length, ...authHeaders(auth) },
        timeout: 300_000,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => {
          const raw = res.headers['x-devpi-serial'];
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8'), serial: raw === undefined ? undefined : Number(raw), headers: res.headers });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('upload timed out')));
    const body = Readable.from((async function* () {
      yield head;
      yield* createReadStream(big.path, { highWaterMark: CHUNK });
      yield tail;
    })());
    body.pipe(req);
  });
}

/** GETs `url` and hashes the body as it streams. */
async function streamedDownload(url: string): Promise<{ status: number; bytes: number; sha256: string; uuid: string | null }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(300_000) });
  const sha = createHash('sha256');
  let bytes = 0;
  if (res.body) {
    for await (const chunk of res.body) {
      sha.update(chunk);
      bytes += chunk.length;
    }
  }
  return { status: res.status, bytes, sha256: sha.digest('hex'), uuid: res.headers.get('x-devpi-uuid') };
}

before(async () => {
  cluster = await LoopbackCluster.start({ label: 'large-file', rootPassword: ROOT_PASSWORD });
  const viaProxy = new ApiClient(cluster.proxy.url);
  await createUser(viaProxy.as({ user: 'root', password: ROOT_PASSWORD }), USER, PASSWORD);
  await createIndex(viaProxy.as({ user: USER, password: PASSWORD }), INDEX);
  big.path = join(cluster.root, FILENAME);
  Object.assign(big, await writeRandomFile(big.path));
}, { timeout: 120_000 });

after(async () => {
  await cluster?.stop(failed);
});

test('a 200 MiB sdist streams through the proxy to the master and back from each replica with flat proxy memory', { timeout: 240_000 }, guarded(async (t) => {
  const c = cluster!;
  const uuidOf = new Map<string, string>();
  for (const n of [c.master, c.replicaA, c.replicaB]) uuidOf.set(resultOf<{ uuid: string }>(await n.api.get('/+status')).uuid, n.name);

  // upload through the proxy
  const upSampler = new RssSampler([c.proxy, c.master, c.replicaA, c.replicaB]).start();
  const upStart = Date.now();
  const up = await streamedUpload(`${c.proxy.url}/${INDEX}/`, { user: USER, password: PASSWORD });
  upSampler.stop();
  t.diagnostic(`upload of ${MB(SIZE)} through the proxy: ${up.status} in ${Date.now() - upStart} ms; RSS ${upSampler.describe()} (${upSampler.samples} samples)`);
  assert.equal(up.status, 200, `upload: ${up.status} ${up.text.slice(0, 500)}`);
  assert.equal(uuidOf.get(String(up.headers['x-devpi-uuid'])), 'master', `the upload was answered by ${String(up.headers['x-devpi-uuid'])}, not the master`);
  assert.ok(up.serial !== undefined && Number.isInteger(up.serial), 'the upload answer has no X-Devpi-Serial');

  // replication to both replicas (they fetch the file from the master)
  const replSampler = new RssSampler([c.replicaA, c.replicaB, c.master]).start();
  for (const r of [c.replicaA, c.replicaB]) {
    await waitFor(async () => {
      const st = resultOf<{ serial: number; 'files-queued': number; 'files-failed': unknown[] }>(await r.api.get('/+status'));
      return st.serial >= up.serial! && st['files-queued'] === 0;
    }, { what: `${r.name} has serial ${String(up.serial)} and the file`, timeoutMs: 120_000, intervalMs: 200 });
  }
  replSampler.stop();
  t.diagnostic(`replication RSS: ${replSampler.describe()}`);
  await waitFor(async () => {
    const list = await proxyBackends(c.proxy.url);
    return list.filter((b) => b.role === 'replica' && b.serial >= up.serial!).length === 2;
  }, { what: 'the proxy to know both replicas reached the upload serial', timeoutMs: 10_000, intervalMs: 100 });

  // download through the proxy: from host A's replica, then (A drained) from host B's
  const { page, data } = await projectJson(c.proxy.url, INDEX, PROJECT);
  const file = data.files.find((f) => f.filename === FILENAME);
  assert.ok(file, `${FILENAME} missing from ${page.url}`);
  assert.equal(file.hashes['sha256'], big.sha256, 'the simple page has another sha256');
  const fileUrl = resolveFileUrl(page.url, file.url);
  assert.ok(fileUrl.startsWith(`${c.proxy.url}/`), `the page's file URL ${fileUrl} does not point at the proxy (X-outside-url)`);

  const downSampler = new RssSampler([c.proxy, c.replicaA, c.replicaB]).start();
  const servedBy: string[] = [];
  for (const step of ['replicaA', 'replicaB'] as const) {
    if (step === 'replicaB') {
      const drain = await c.proxy.api.post('/+proxy/drain/replica1');
      assert.equal(drain.status, 200, describeResponse(drain));
    }
    const start = Date.now();
    const dl = await streamedDownload(fileUrl);
    t.diagnostic(`download through the proxy served by ${uuidOf.get(dl.uuid ?? '') ?? String(dl.uuid)}: ${dl.status}, ${MB(dl.bytes)} in ${Date.now() - start} ms`);
    assert.equal(dl.status, 200);
    assert.equal(dl.bytes, SIZE);
    assert.equal(dl.sha256, big.sha256, 'the downloaded bytes differ from the uploaded ones');
    servedBy.push(uuidOf.get(dl.uuid ?? '') ?? `unknown ${String(dl.uuid)}`);
  }
  await c.proxy.api.post('/+proxy/undrain/replica1');
  downSampler.stop();
  t.diagnostic(`download RSS: ${downSampler.describe()} (${downSampler.samples} samples)`);
  assert.deepEqual(servedBy, ['replicaA', 'replicaB'], 'the downloads were not served by the replicas');

  const proxyGrowth = Math.max(upSampler.growthBytes('proxy'), downSampler.growthBytes('proxy'));
  assert.ok(proxyGrowth < PROXY_GROWTH_LIMIT, `the proxy's RSS grew by ${MB(proxyGrowth)} (limit ${MB(PROXY_GROWTH_LIMIT)}): upload ${upSampler.describe()}; download ${downSampler.describe()}`);
  for (const r of ['replicaA', 'replicaB']) {
    const growth = Math.max(replSampler.growthBytes(r), downSampler.growthBytes(r));
    assert.ok(growth < REPLICA_GROWTH_LIMIT, `${r}'s RSS grew by ${MB(growth)} (limit ${MB(REPLICA_GROWTH_LIMIT)}): replication ${replSampler.describe()}; download ${downSampler.describe()}`);
  }
  await waitProxyBackends(c.proxy.url, { replica1: true }, 5_000);
}));
