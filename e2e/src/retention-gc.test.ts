// Retention and garbage collection end to end (issue 16; devpi #968: thousands of CI dev versions
// per project make listing and uploads slow, and deleting frees no disk). One project gets
// DEV_VERSIONS dev versions, uploaded as raw multipart POSTs UPLOAD_CONCURRENCY at a time (the last 30
// one by one for the latency figure), and one final; the index keeps 10 dev releases. The suite
// uses the issue's 2,000 (278 s of this test alone on 2 cores at load 10: every upload fsyncs its
// blob and commits one record; it runs beside other files); WH_E2E_GC_DEV_VERSIONS=300 makes a quick
// local run. `wheelhouse cleanup --dry-run` lists and changes nothing;
// `wheelhouse cleanup` leaves 10 dev versions and the final (replicated); `wheelhouse gc` on the
// master and then on the replica frees exactly the bytes the store shrinks by on each; real pip
// (`--isolated --pre`) still resolves the newest dev version from the replica. Latencies before and
// after are printed (figures for the report, never asserted).
import { after, before, test } from 'node:test';
import PQueue from 'p-queue';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { authHeaders, buildWheel, legacyUploadBody, TestRoot, type Credentials, type WheelhouseProcess } from '@wheelhouse/testing';
import { createIndex, createUser, PEP691_JSON } from './harness.js';
import { makeVenv, pipInstall } from './python-clients.js';
import { wheelhouseCli } from './dump-tools.js';
import { waitConverged } from './replica-status.js';

const ROOT_PASSWORD = 'root-gc-secret';
const USER = 'ci';
const PASSWORD = 'ci-gc-pw';
const INDEX = `${USER}/nightly`;
const PROJECT = 'gcdemo';
const DEV_VERSIONS = Number(process.env['WH_E2E_GC_DEV_VERSIONS'] ?? 2000);
const UPLOAD_CONCURRENCY = 8;
assert.ok(Number.isInteger(DEV_VERSIONS) && DEV_VERSIONS > 40, `WH_E2E_GC_DEV_VERSIONS must be an integer above 40, not ${process.env['WH_E2E_GC_DEV_VERSIONS']}`);
const KEEP = 10;
const GC_FLAGS = ['--gc-interval', '0', '--gc-grace', '0'];
// asynchronous replication: the last test deletes while its replica is stopped (behind)
const MASTER_FLAGS = [...GC_FLAGS, '--sync-replicas', '0'];

const root = new TestRoot('retention-gc');
let master: WheelhouseProcess | undefined;
let replica: WheelhouseProcess | undefined;
const auth: Credentials = { user: USER, password: PASSWORD };
const nodes = (): [WheelhouseProcess, WheelhouseProcess] => {
  assert.ok(master && replica, 'the cluster did not start (see the before hook)');
  return [master, replica];
};

/** Bytes and files under `<datadir>/files/sha256`. */
function storeUsage(datadir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir, { withFileTypes: true })) {
      if (name.isDirectory()) walk(join(dir, name.name));
      else {
        files++;
        bytes += statSync(join(dir, name.name)).size;
      }
    }
  };
  walk(join(datadir, 'files', 'sha256'));
  return { files, bytes };
}

async function upload(version: string): Promise<number> {
  const wheel = buildWheel(PROJECT, version, { paddingBytes: 4096 });
  const { contentType, body } = legacyUploadBody({ name: PROJECT, version, filename: wheel.filename, content: wheel.content });
  const t0 = performance.now();
  const res = await fetch(`${nodes()[0].url}/${INDEX}/`, { method: 'POST', headers: { 'Content-Type': contentType, ...authHeaders(auth) }, body, signal: AbortSignal.timeout(60_000) });
  const ms = performance.now() - t0;
  assert.equal(res.status, 200, `upload ${version}: ${res.status} ${await res.text()}`);
  await res.arrayBuffer().catch(() => undefined);
  return ms;
}

async function projectVersions(node: WheelhouseProcess): Promise<string[]> {
  const res = await fetch(`${node.url}/${INDEX}/+simple/${PROJECT}/`, { headers: { Accept: PEP691_JSON } });
  assert.equal(res.status, 200);
  return ((await res.json()) as { versions: string[] }).versions;
}

/** Median and p95 of `n` simple-page GETs (JSON), ms. */
async function pageLatency(node: WheelhouseProcess, n = 30): Promise<string> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await fetch(`${node.url}/${INDEX}/+simple/${PROJECT}/`, { headers: { Accept: PEP691_JSON } });
    await res.arrayBuffer();
    times.push(performance.now() - t0);
  }
  return percentiles(times);
}

function percentiles(times: number[]): string {
  const s = [...times].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return `p50 ${at(0.5).toFixed(2)} ms, p95 ${at(0.95).toFixed(2)} ms`;
}

/** `wheelhouse gc --json` against a node; the report. */
async function gc(node: WheelhouseProcess, secretFile: string): Promise<Record<string, number | string | null>> {
  const r = await wheelhouseCli(['gc', '--url', node.url, '--secret-file', secretFile, '--json']);
  assert.equal(r.code, 0, r.describe());
  return JSON.parse(r.stdout) as Record<string, number | string | null>;
}

before(async () => {
  master = await root.startMaster('master', ROOT_PASSWORD, { args: MASTER_FLAGS });
  replica = await root.startReplica('replica', master, { args: GC_FLAGS });
  await createUser(master.api.as({ user: 'root', password: ROOT_PASSWORD }), USER, PASSWORD);
  await createIndex(master.api.as(auth), INDEX, { retention: { keep_dev_releases: KEEP } });
}, { timeout: 120_000 });

after(async () => {
  await root.cleanup({ graceful: true });
});

test('an invalid retention policy is refused with a message and changes nothing', { timeout: 30_000 }, root.guarded(async () => {
  const [m] = nodes();
  const res = await m.api.as(auth).patch(`/${INDEX}`, { retention: { keep_dev_releases: -1, keep_forever: true } });
  assert.equal(res.status, 400, res.text);
  assert.match(res.text, /retention/);
  assert.match(res.text, /keep_forever/);
}));

const timings: Record<string, string> = {};

test(`cleanup keeps the newest ${KEEP} of ${DEV_VERSIONS} dev versions, gc frees their bytes on master and replica, pip still resolves the newest`, { timeout: 600_000 }, root.guarded(async () => {
  const [m, r] = nodes();
  const uploadMs: number[] = [];
  await upload('0.9');
  const queue = new PQueue({ concurrency: UPLOAD_CONCURRENCY });
  const t0 = performance.now();
  await queue.addAll(Array.from({ length: DEV_VERSIONS - 30 }, (_, i) => () => upload(`1.0.dev${i + 1}`)));
  timings[`upload of ${DEV_VERSIONS - 30}, ${UPLOAD_CONCURRENCY} at a time`] = `${((DEV_VERSIONS - 30) / ((performance.now() - t0) / 1000)).toFixed(0)} uploads/s`;
  for (let i = DEV_VERSIONS - 29; i <= DEV_VERSIONS; i++) uploadMs.push(await upload(`1.0.dev${i}`));
  timings['upload, last 30 of many versions'] = percentiles(uploadMs.slice(-30));
  await waitConverged(m, [r], 120_000);
  assert.equal((await projectVersions(r)).length, DEV_VERSIONS + 1);
  timings['simple page before cleanup'] = await pageLatency(r);

  const serialBefore = await m.api.statusSerial();
  const dry = await wheelhouseCli(['cleanup', '--datadir', m.datadir, '--dry-run']);
  assert.equal(dry.code, 0, dry.describe());
  assert.equal(dry.stdout.split('\n').filter((l) => l.startsWith('would remove')).length, DEV_VERSIONS - KEEP, dry.stdout.slice(0, 2000));
  assert.match(dry.stdout, /would remove ci\/nightly gcdemo 1\.0\.dev1: retention: beyond the newest 10 dev releases/);
  assert.equal(await m.api.statusSerial(), serialBefore, 'a dry run writes nothing');

  const clean = await wheelhouseCli(['cleanup', '--datadir', m.datadir]);
  assert.equal(clean.code, 0, clean.describe());
  const expected = ['0.9', ...Array.from({ length: KEEP }, (_, i) => `1.0.dev${DEV_VERSIONS - KEEP + 1 + i}`)];
  assert.deepEqual(await projectVersions(m), expected);
  await waitConverged(m, [r], 120_000);
  assert.deepEqual(await projectVersions(r), expected, 'the replica follows the cleanup records');

  const masterBefore = storeUsage(m.datadir);
  const mgc = await gc(m, m.secretFile);
  const masterAfter = storeUsage(m.datadir);
  // each removed version had a wheel and its METADATA blob (PEP 658)
  assert.equal(mgc['freedFiles'], 2 * (DEV_VERSIONS - KEEP), JSON.stringify(mgc));
  assert.equal(mgc['freedBytes'], masterBefore.bytes - masterAfter.bytes);
  assert.equal(masterAfter.files, masterBefore.files - 2 * (DEV_VERSIONS - KEEP));
  const status = (await (await fetch(`${m.url}/+status`)).json()) as { result: { 'disk-usage': Record<string, unknown> } };
  assert.equal(status.result['disk-usage']['store-bytes'], masterAfter.bytes);
  // one release file entry per remaining version (its METADATA blob is named by the same entry)
  assert.equal((status.result['disk-usage']['indexes'] as Record<string, { files: number }>)[INDEX]?.files, KEEP + 1);
  const metrics = await (await fetch(`${m.url}/+metrics`)).text();
  assert.match(metrics, new RegExp(`^wheelhouse_gc_freed_bytes_total ${mgc['freedBytes']}$`, 'm'));
  assert.match(metrics, new RegExp(`^wheelhouse_store_bytes ${masterAfter.bytes}$`, 'm'));

  const replicaBefore = storeUsage(r.datadir);
  const rgc = await gc(r, m.secretFile);
  const replicaAfter = storeUsage(r.datadir);
  assert.equal(rgc['freedFiles'], 2 * (DEV_VERSIONS - KEEP), JSON.stringify(rgc));
  assert.equal(rgc['freedBytes'], replicaBefore.bytes - replicaAfter.bytes);
  assert.deepEqual(replicaAfter, masterAfter, 'master and replica hold the same blobs after collection');
  const gcSeconds = Number(mgc['ms']) / 1000;
  timings['gc on master'] = `${masterBefore.files} files scanned, ${mgc['freedFiles']} removed (${(Number(mgc['freedBytes']) / 1e6).toFixed(1)} MB) in ${mgc['ms']} ms`;
  timings['gc throughput'] = `${(Number(mgc['freedFiles']) / gcSeconds).toFixed(0)} files/s, ${(Number(mgc['freedBytes']) / 1e6 / gcSeconds).toFixed(1)} MB/s removed`;
  timings['simple page after cleanup'] = await pageLatency(r);
  const after: number[] = [];
  for (let i = 1; i <= 30; i++) after.push(await upload(`1.1.dev${i}`));
  timings['upload after cleanup'] = percentiles(after);

  const venv = await makeVenv(root.dir('venv'));
  const pip = await pipInstall(venv, { indexUrl: `${r.url}/${INDEX}/+simple/`, requirements: [PROJECT], extraArgs: ['--pre'] });
  assert.equal(pip.code, 0, pip.describe());
  assert.equal(pip.installed.find((i) => i.metadata.name === PROJECT)?.metadata.version, '1.1.dev30');
  process.stdout.write(`# retention-gc figures (${DEV_VERSIONS} dev versions, keep ${KEEP}):\n${Object.entries(timings).map(([k, v]) => `#   ${k}: ${v}`).join('\n')}\n`);
}));

test('a replica that is behind keeps the master from collecting blobs it may still fetch, until it caught up', { timeout: 300_000 }, root.guarded(async () => {
  const [m, r] = nodes();
  const wheel = buildWheel('gcbehind', '1.0', { paddingBytes: 1024 });
  const { contentType, body } = legacyUploadBody({ name: 'gcbehind', version: '1.0', filename: wheel.filename, content: wheel.content });
  const up = await fetch(`${m.url}/${INDEX}/`, { method: 'POST', headers: { 'Content-Type': contentType, ...authHeaders(auth) }, body });
  assert.equal(up.status, 200, await up.text());
  await waitConverged(m, [r], 120_000);
  await r.stop();
  const del = await m.api.as(auth).delete(`/${INDEX}/gcbehind/1.0`);
  assert.equal(del.status, 200, del.text);
  const held = await gc(m, m.secretFile);
  assert.equal(held['held'], 'followers-behind', JSON.stringify(held));
  assert.equal(held['freedFiles'], 0);
  assert.ok(statSync(join(m.datadir, 'files', 'sha256', wheel.sha256.slice(0, 2), wheel.sha256.slice(2, 4), wheel.sha256)).isFile(), 'the wheel is still on the master');
  await r.start();
  await waitConverged(m, [r], 120_000);
  const swept = await gc(m, m.secretFile);
  assert.equal(swept['held'], null, JSON.stringify(swept));
  assert.equal(swept['freedFiles'], 2, 'the wheel and its METADATA blob');
}));
