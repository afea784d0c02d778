// The HA drill of issue 4, on loopback (the same topology as docker-compose.yml: host A = master +
// replica, host B = replica, the proxy in front; netns-topology.test.ts cuts a whole host off).
// Through the proxy, a bounded sequential loop of real `pip install --target <fresh dir>` and
// `pip download` runs while the test
//   (a) SIGKILLs the master, keeps it down ~10 s — uploads through the proxy meanwhile must fail
//       fast with 503, Retry-After and a message saying the master is unavailable — then restarts
//       it on the same data directory and port; an upload then succeeds;
//   (b) drains host A's replica (planned maintenance, so reads go to host B) and SIGKILLs host B's
//       replica: reads in flight must fail over; then restarts it and puts host A's back.
// Zero failed installs/downloads over the whole loop (pip runs with --retries 0: the proxy, not
// pip, must absorb the failures), and every upload that was acknowledged (200) is on the master and
// on both replicas at the end, byte for byte.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  ApiClient, buildFixture, createIndex, createUser, debianWheels, describeResponse, distNameVersion, fixtureName,
  legacyUpload, makeVenv, messageOf, pipDownload, pipInstall, projectJson, resolveFileUrl, resultOf,
  twineUpload, type ApiResponse, type Venv,
} from './harness.js';
import { buildSdist, LoopbackCluster, proxyBackends, sleep, waitFor, waitProxyBackends, WheelhouseProcess, withClusterLogs } from '@wheelhouse/testing';

const ROOT_PASSWORD = 'ha-root-secret';
const USER = 'ha';
const PASSWORD = 'ha-e2e-pw';
const INDEX = `${USER}/dev`;
const DRILL_PROJECT = 'wh-ha-drill';
/** The client loop runs at least this long and stops at the latest at LOOP_MAX_MS. */
const LOOP_MIN_MS = 60_000;
const LOOP_MAX_MS = 110_000;
const MASTER_DOWN_MS = 10_000;
const REPLICA_DOWN_MS = 8_000;
/** "Fail fast": an upload with the master down is answered within this. */
const FAST_MS = 2_000;

let cluster: LoopbackCluster | undefined;
let failed = false;
const guarded = (fn: (t: TestContext) => Promise<void>) => withClusterLogs(() => cluster, () => (failed = true), fn);

/** Every file the cluster acknowledged (200): file name → sha256 and project. */
const acknowledged = new Map<string, { project: string; sha256: string }>();

/** PEP 503 normalised project name. */
const pep503 = (name: string): string => name.toLowerCase().replace(/[-_.]+/g, '-');
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

before(async () => {
  cluster = await LoopbackCluster.start({ label: 'ha-drill', rootPassword: ROOT_PASSWORD });
  const viaProxy = new ApiClient(cluster.proxy.url);
  await createUser(viaProxy.as({ user: 'root', password: ROOT_PASSWORD }), USER, PASSWORD);
  await createIndex(viaProxy.as({ user: USER, password: PASSWORD }), INDEX);
  const fx = await buildFixture();
  const files = [...debianWheels(), fx.sdist, fx.wheel];
  const r = await twineUpload({ repositoryUrl: `${cluster.proxy.url}/${INDEX}/`, user: USER, password: PASSWORD, files });
  if (r.code !== 0) throw new Error(`twine upload through the proxy failed:\n${r.describe()}`);
  for (const f of files) acknowledged.set(basename(f), { project: pep503(distNameVersion(f).name), sha256: sha256(readFileSync(f)) });
}, { timeout: 240_000 });

after(async () => {
  await cluster?.stop(failed);
});

async function proxyBackendsRaw(url: string): Promise<Array<{ name: string; requests: number }>> {
  return resultOf<{ backends: Array<{ name: string; requests: number }> }>(await new ApiClient(url).get('/+status')).backends;
}

interface ClientRun {
  readonly kind: 'install' | 'download';
  readonly startMs: number;
  readonly endMs: number;
  readonly ok: boolean;
  readonly detail: string;
}

interface Event {
  readonly atMs: number;
  readonly what: string;
}

interface UploadAttempt {
  readonly phase: string;
  readonly atMs: number;
  readonly ms: number;
  readonly res: ApiResponse;
  readonly filename: string;
}

/** What the drill observed, for the assertions (here and in the tests after it). */
const drill = {
  runs: [] as ClientRun[],
  events: [] as Event[],
  uploads: [] as UploadAttempt[],
  masterDetectedDownMs: -1,
};

let version = 0;
async function uploadDrillRelease(c: LoopbackCluster, t0: number, phase: string): Promise<UploadAttempt> {
  const v = `2.0.${version++}`;
  const sdist = buildSdist(DRILL_PROJECT, v);
  const started = Date.now();
  const res = await legacyUpload(`${c.proxy.url}/${INDEX}/`, { user: USER, password: PASSWORD }, {
    path: sdist.filename, filename: sdist.filename, content: sdist.content, name: DRILL_PROJECT, version: v,
  });
  const attempt = { phase, atMs: started - t0, ms: Date.now() - started, res, filename: sdist.filename };
  drill.uploads.push(attempt);
  if (res.status === 200) acknowledged.set(sdist.filename, { project: DRILL_PROJECT, sha256: sha256(sdist.content) });
  return attempt;
}

async function clientLoop(c: LoopbackCluster, venv: Venv, work: string, t0: number, shouldStop: () => boolean): Promise<void> {
  const indexUrl = `${c.proxy.url}/${INDEX}/+simple/`;
  for (let i = 0; Date.now() - t0 < LOOP_MAX_MS && !shouldStop(); i++) {
    const target = join(work, `target-${i}`);
    let start = Date.now();
    const inst = await pipInstall(venv, { indexUrl, requirements: [fixtureName], extraArgs: ['--target', target, '--retries', '0'], timeoutMs: 60_000 });
    const instOk = inst.code === 0 && inst.installed.some((p) => p.metadata.name === fixtureName);
    drill.runs.push({ kind: 'install', startMs: start - t0, endMs: Date.now() - t0, ok: instOk, detail: instOk ? '' : inst.describe() });
    start = Date.now();
    const dest = join(work, `download-${i}`);
    const dl = await pipDownload({ indexUrl, requirements: [fixtureName, 'wheel'], dest, noDeps: true, timeoutMs: 60_000 });
    drill.runs.push({ kind: 'download', startMs: start - t0, endMs: Date.now() - t0, ok: dl.code === 0, detail: dl.code === 0 ? '' : dl.describe() });
  }
}

function note(t0: number, what: string): void {
  drill.events.push({ atMs: Date.now() - t0, what });
}

async function killNode(n: WheelhouseProcess, t0: number): Promise<void> {
  note(t0, `SIGKILL ${n.name} (pid ${String(n.pid)})`);
  await n.kill('SIGKILL');
}

test('HA drill: installs keep working through the proxy while the master and a replica die', { timeout: 180_000 }, guarded(async (t) => {
  const c = cluster!;
  const work = join(c.root, 'work');
  mkdirSync(work);
  const venv = await makeVenv(join(work, 'venv'));
  const t0 = Date.now();
  let stop = false;
  const loop = clientLoop(c, venv, work, t0, () => stop);
  let loopError: unknown;
  loop.catch((err: unknown) => (loopError = err));

  try {
    await waitFor(() => drill.runs.filter((r) => r.ok).length >= 2, { what: 'two successful client runs before the first kill', timeoutMs: 30_000 });

    // (a) the master dies
    await killNode(c.master, t0);
    const killedAt = Date.now();
    const immediate = await uploadDrillRelease(c, t0, 'master just killed (proxy not yet aware)');
    note(t0, `upload right after the kill: ${immediate.res.status} in ${immediate.ms} ms`);
    await waitProxyBackends(c.proxy.url, { master: false }, 10_000);
    drill.masterDetectedDownMs = Date.now() - killedAt;
    note(t0, `proxy marks the master unusable ${drill.masterDetectedDownMs} ms after the kill`);
    while (Date.now() - killedAt < MASTER_DOWN_MS - 1_500) {
      await uploadDrillRelease(c, t0, 'master down');
      await sleep(2_000);
    }
    await sleep(Math.max(0, MASTER_DOWN_MS - (Date.now() - killedAt)));
    note(t0, 'restarting the master');
    await c.master.restart();
    note(t0, 'master ready again');
    await waitProxyBackends(c.proxy.url, { master: true }, 15_000);
    note(t0, 'proxy uses the master again');
    const afterRestart = await uploadDrillRelease(c, t0, 'master back');
    assert.equal(afterRestart.res.status, 200, `upload after the master came back: ${describeResponse(afterRestart.res)}`);

    // (b) host B's replica dies while host A's replica is drained (so reads are going to B)
    await sleep(3_000);
    const drain = await c.proxy.api.post('/+proxy/drain/replica1');
    assert.equal(drain.status, 200, `drain replica1: ${describeResponse(drain)}`);
    note(t0, 'drained replica1 (host A)');
    await sleep(2_000);
    await killNode(c.replicaB, t0);
    const bKilledAt = Date.now();
    await sleep(1_000);
    const duringB = await uploadDrillRelease(c, t0, 'replica B down');
    assert.equal(duringB.res.status, 200, `upload while host B's replica is down: ${describeResponse(duringB.res)}`);
    await sleep(Math.max(0, REPLICA_DOWN_MS - (Date.now() - bKilledAt)));
    note(t0, 'restarting replica B');
    await c.replicaB.restart();
    await waitProxyBackends(c.proxy.url, { replica2: true }, 15_000);
    note(t0, 'replica B back in the proxy');
    const undrain = await c.proxy.api.post('/+proxy/undrain/replica1');
    assert.equal(undrain.status, 200, `undrain replica1: ${describeResponse(undrain)}`);
    note(t0, 'undrained replica1');
    const last = await uploadDrillRelease(c, t0, 'all back');
    assert.equal(last.res.status, 200, `upload with all nodes back: ${describeResponse(last.res)}`);

    // let the loop run on to its minimum length, then stop it after the current run
    await sleep(Math.max(0, LOOP_MIN_MS - (Date.now() - t0)));
  } finally {
    stop = true;
    await loop.catch(() => undefined);
  }
  assert.equal(loopError, undefined, `the client loop threw: ${String(loopError)}`);

  const timeline = [
    ...drill.events.map((e) => `${(e.atMs / 1000).toFixed(1)}s ${e.what}`),
    ...drill.uploads.map((u) => `${(u.atMs / 1000).toFixed(1)}s upload (${u.phase}) → ${u.res.status} in ${u.ms} ms`),
  ].sort((a, b) => parseFloat(a) - parseFloat(b));
  for (const line of timeline) t.diagnostic(line);
  const installs = drill.runs.filter((r) => r.kind === 'install').length;
  const downloads = drill.runs.length - installs;
  t.diagnostic(`${installs} pip installs and ${downloads} pip downloads over ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const metrics = await (await fetch(`${c.proxy.url}/+metrics`)).text();
  const retried = /^wheelhouse_proxy_retries_total (\d+)/m.exec(metrics)?.[1] ?? '?';
  const perBackend = (await proxyBackendsRaw(c.proxy.url)).map((b) => `${b.name} ${b.requests}`).join(', ');
  t.diagnostic(`proxy: requests per backend: ${perBackend}; reads retried on another backend: ${retried}`);

  const failures = drill.runs.filter((r) => !r.ok);
  assert.deepEqual(
    failures.map((f) => `${f.kind} ${(f.startMs / 1000).toFixed(1)}–${(f.endMs / 1000).toFixed(1)}s`),
    [],
    `failed client runs (timeline:\n${timeline.join('\n')})\n${failures.map((f) => f.detail).join('\n=====\n')}`,
  );
  assert.ok(installs >= 10, `only ${installs} installs ran in the loop`);

  // uploads while the master was down (after the proxy noticed): fast, 503, Retry-After, clear message
  const down = drill.uploads.filter((u) => u.phase === 'master down');
  assert.ok(down.length >= 2, `only ${down.length} uploads were tried while the master was down`);
  for (const u of down) {
    assert.equal(u.res.status, 503, `upload at ${u.atMs} ms with the master down: ${describeResponse(u.res)}`);
    assert.ok(u.ms < FAST_MS, `upload with the master down took ${u.ms} ms (want < ${FAST_MS})`);
    assert.ok(u.res.headers.get('retry-after'), `503 without Retry-After: ${describeResponse(u.res)}`);
    assert.match(messageOf(u.res) ?? '', /master is unavailable/i, `503 message: ${describeResponse(u.res)}`);
  }
}));

test('an upload in the first moment after the master dies (before the health check notices) also gets the clear 503', {
  timeout: 10_000,
}, async () => {
  const u = drill.uploads.find((x) => x.phase.startsWith('master just killed'));
  assert.ok(u, 'the drill made no upload right after killing the master');
  assert.ok(u.ms < FAST_MS, `took ${u.ms} ms (want < ${FAST_MS})`);
  assert.equal(u.res.status, 503, `got ${describeResponse(u.res)}`);
  assert.ok(u.res.headers.get('retry-after'), `no Retry-After: ${describeResponse(u.res)}`);
  assert.match(messageOf(u.res) ?? '', /master is unavailable/i, describeResponse(u.res));
});

test('everything acknowledged during the drill is on the master and on both replicas, byte for byte', { timeout: 120_000 }, guarded(async () => {
  const c = cluster!;
  assert.ok(acknowledged.size >= 8, `only ${acknowledged.size} files were acknowledged`);
  const masterSerial = await c.master.api.statusSerial();
  for (const r of [c.replicaA, c.replicaB]) {
    await waitFor(async () => {
      const st = resultOf<{ serial: number; 'files-queued': number }>(await r.api.get('/+status'));
      return st.serial >= masterSerial && st['files-queued'] === 0;
    }, { what: `${r.name} at serial ${masterSerial} with no files queued`, timeoutMs: 60_000, intervalMs: 200 });
  }
  const projects = new Set([...acknowledged.values()].map((a) => a.project));
  for (const node of [c.master, c.replicaA, c.replicaB]) {
    for (const project of projects) {
      const { page, data } = await projectJson(node.url, INDEX, project);
      for (const [filename, a] of acknowledged) {
        if (a.project !== project) continue;
        const f = data.files.find((x) => x.filename === filename);
        assert.ok(f, `${node.name}: ${filename} (acknowledged) missing from ${page.url}; has ${data.files.map((x) => x.filename).join(', ')}`);
        // the page's URLs may point at the proxy (X-outside-url); fetch the file from this node
        const path = new URL(resolveFileUrl(page.url, f.url)).pathname;
        const res = await fetch(`${node.url}${path}`, { signal: AbortSignal.timeout(30_000) });
        const body = new Uint8Array(await res.arrayBuffer());
        assert.equal(res.status, 200, `${node.name}: GET ${path}`);
        assert.equal(sha256(body), a.sha256, `${node.name}: ${filename} has other bytes`);
      }
    }
  }
  // the rejected uploads left nothing behind
  const rejected = drill.uploads.filter((u) => u.res.status !== 200).map((u) => u.filename);
  const { data } = await projectJson(c.master.url, INDEX, DRILL_PROJECT);
  for (const f of rejected) assert.ok(!data.files.some((x) => x.filename === f), `${f} was refused but is on the master`);
}));

test('the proxy lists every backend usable again after the drill', { timeout: 30_000 }, guarded(async () => {
  const c = cluster!;
  await waitProxyBackends(c.proxy.url, { master: true, replica1: true, replica2: true }, 10_000);
  const list = await proxyBackends(c.proxy.url);
  assert.ok(list.every((b) => !b.draining), JSON.stringify(list));
}));
