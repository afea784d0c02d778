// The zero-downtime upgrade drill of issue 5, following docs/upgrade.md step by step with real
// processes: a master, two replicas started with `--follow-new-master`, the proxy in front
// (`wheelhouse proxy --master URL --replica URL --replica URL`), and — all along — a bounded
// sequential loop of real `pip install --target <fresh dir>` through the proxy (pip with
// `--retries 0`: the proxy, not pip, must absorb the switch). The drill:
//   1. export the running master (`--hard-links`), note the serial it prints;
//   2. stop the master — uploads through the proxy now get 503 "the master is unavailable" fast;
//      export again (offline) only if writes happened after step 1;
//   3. import into a new data directory with the old secret file (new store UUID);
//   4. start the new master there, same address and port;
//   5. replicas follow: each builds the new state beside the old one and switches (its /+status
//      `master-uuid` becomes the new master's UUID at the new master's serial);
//   6. check the proxy's /+status: all backends usable.
// Then: zero failed installs over the whole drill; everything uploaded before the export is
// installable from both replicas; an upload through the proxy after the switch is readable through
// the proxy at once (read-your-writes across the UUID change) and installable from both replicas.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  ApiClient, buildFixture, createIndex, createUser, debianWheels, describeResponse, distNameVersion, fixtureName, legacyUpload,
  messageOf, projectJson, pythonClientEnv, resolveFileUrl, resultOf, run, sha256Hex, simpleUrl, systemPython, twineUpload,
  type ApiResponse,
} from './harness.js';
import { buildSdist, proxyBackends, type RunResult, sleep, TestRoot, waitFor, waitProxyBackends, type WheelhouseProcess } from '@wheelhouse/testing';
import { replicaStatus } from './replica-status.js';
import { dirEntries, exportMode, exportedSerial, fetchBytes, storeUuid, wheelhouseCli } from './dump-tools.js';

const ROOT_PASSWORD = 'root-upgrade-e2e';
const USER = 'ops';
const PASSWORD = 'ops-upgrade-pw';
const INDEX = `${USER}/dev`;
const NEW_PROJECT = 'wh-after-upgrade';
/** The install loop stops at the latest after this long. */
const LOOP_MAX_MS = 150_000;
/** "Fail fast": an upload with the master down is answered within this. */
const FAST_MS = 2_000;

const cluster = new TestRoot('upgrade-drill');
const own: WheelhouseProcess[] = [];
let master: WheelhouseProcess | undefined;
let replicas: WheelhouseProcess[] = [];
let proxy: WheelhouseProcess | undefined;
/** A replica started without --follow-new-master (not behind the proxy). */
let standalone: WheelhouseProcess | undefined;
let failed = false;

after(async () => {
  for (const n of own.reverse()) await n.stop();
  if (failed) cluster.markFailed();
  await cluster.cleanup();
});

/** Files uploaded before the export: file name → sha256. */
const before1 = new Map<string, string>();

function followingReplica(name: string, m: WheelhouseProcess, follow = true): WheelhouseProcess {
  const node = cluster.replica(name, m, { args: follow ? ['--follow-new-master'] : [] });
  own.push(node);
  return node;
}

before(async () => {
  master = await cluster.startMaster('master', ROOT_PASSWORD);
  replicas = [followingReplica('replica1', master), followingReplica('replica2', master)];
  standalone = followingReplica('replica-nofollow', master, false);
  await Promise.all([...replicas, standalone].map((r) => r.start()));
  proxy = await cluster.proxy('proxy', master, [replicas[0]!, replicas[1]!]).start();
  own.push(proxy);
  await waitProxyBackends(proxy.url, { master: true, replica1: true, replica2: true });
  const viaProxy = new ApiClient(proxy.url);
  await createUser(viaProxy.as({ user: 'root', password: ROOT_PASSWORD }), USER, PASSWORD);
  await createIndex(viaProxy.as({ user: USER, password: PASSWORD }), INDEX);
  const fx = await buildFixture();
  const files = [...debianWheels(), fx.sdist, fx.wheel];
  const up = await twineUpload({ repositoryUrl: `${proxy.url}/${INDEX}/`, user: USER, password: PASSWORD, files });
  if (up.code !== 0) throw new Error(`twine upload through the proxy failed:\n${up.describe()}`);
  for (const f of files) before1.set(basename(f), sha256Hex(readFileSync(f)));
}, { timeout: 180_000 });

/** `pip --isolated install --target DIR` with Debian's pip, no retries (isolated from the machine's pip config). */
function pipInstallTarget(indexUrl: string, target: string, requirements: readonly string[]): Promise<RunResult> {
  return run(
    systemPython,
    ['-m', 'pip', '--isolated', 'install', '--no-cache-dir', '--index-url', indexUrl, '--timeout', '30', '--retries', '0', '--target', target, ...requirements],
    { timeoutMs: 90_000, env: pythonClientEnv() },
  );
}

interface InstallRun {
  readonly startMs: number;
  readonly endMs: number;
  readonly ok: boolean;
  readonly detail: string;
}

interface UploadAttempt {
  readonly phase: string;
  readonly atMs: number;
  readonly ms: number;
  readonly res: ApiResponse;
}

/** What the drill observed; the tests after it assert on it (one property each). */
const drill = {
  runs: [] as InstallRun[],
  uploads: [] as UploadAttempt[],
  events: [] as string[],
  newUuid: '',
  newMaster: undefined as WheelhouseProcess | undefined,
  /** replica name → '' when it followed the new master, else what went wrong */
  followed: new Map<string, string>(),
  buildingSeen: 0,
  /** '' when the proxy listed all backends usable after the switch (step 6) */
  proxyAllUsable: 'not checked',
  /** '' when the upload after the switch was readable through the proxy at once */
  readYourWrites: 'not checked',
};

/** Wraps the drill: on failure, every node's log tail goes to the diagnostics and the temp root is kept. */
function guarded(fn: (t: TestContext) => Promise<void>): (t: TestContext) => Promise<void> {
  return async (t) => {
    try {
      await fn(t);
    } catch (err) {
      failed = true;
      for (const n of own) {
        if (n.unexpectedExit) t.diagnostic(`${n.name} ended unexpectedly: ${n.unexpectedExit}`);
        t.diagnostic(`--- ${n.logPath} (last lines) ---`);
        for (const line of n.logTail(40).split('\n')) if (line.trim()) t.diagnostic(line.slice(0, 400));
      }
      throw err;
    }
  };
}

/** Why a node is gone, for assertion messages. */
function crashes(): string {
  return own
    .filter((n) => n.unexpectedExit)
    .map((n) => `${n.name}: ${String(n.unexpectedExit)}\n${n.logTail(25)}`)
    .join('\n');
}

/** Waits (bounded) until `r` serves the new master's state; '' or what went wrong. */
async function waitFollowed(r: WheelhouseProcess, nm: WheelhouseProcess, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let seen = 'nothing yet';
  while (Date.now() < deadline) {
    if (!r.running) return `${r.name} is not running (${String(r.unexpectedExit)})`;
    try {
      const st = resultOf<Record<string, unknown>>(await r.api.get('/+status', { timeoutMs: 5_000 }));
      if (st['building-next']) drill.buildingSeen++;
      const target = await nm.api.statusSerial();
      if (st['master-uuid'] === drill.newUuid && st['serial'] === target && !st['building-next'] && st['replication-fatal'] === null) {
        return /switched to the new master's state/.test(r.log()) ? '' : `${r.name} serves the new state but never logged "switched to the new master's state"`;
      }
      seen = JSON.stringify({ 'master-uuid': st['master-uuid'], serial: st['serial'], target, 'building-next': st['building-next'], fatal: st['replication-fatal'] });
    } catch (err) {
      seen = String(err);
    }
    await sleep(50);
  }
  return `${r.name} did not follow within ${timeoutMs} ms; last seen ${seen}`;
}

test('upgrade drill (docs/upgrade.md steps 1–6) with a pip install loop through the proxy all along', { timeout: 175_000 }, guarded(async (t) => {
  const m = master!;
  const p = proxy!;
  const t0 = Date.now();
  const note = (what: string): void => void drill.events.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);
  let stop = false;
  const loop = (async () => {
    for (let i = 0; Date.now() - t0 < LOOP_MAX_MS && !stop; i++) {
      const target = cluster.dir(`target-${i}`);
      const start = Date.now();
      const r = await pipInstallTarget(simpleUrl(p.url, INDEX), target, [fixtureName]);
      const ok = r.code === 0 && (dirEntries(target) ?? []).some((n) => n.startsWith('wh_e2e_demo-1.0.0.dist-info'));
      drill.runs.push({ startMs: start - t0, endMs: Date.now() - t0, ok, detail: ok ? '' : r.describe() });
    }
  })();
  const upload = async (phase: string, project: string, version: string): Promise<UploadAttempt> => {
    const s = buildSdist(project, version);
    const started = Date.now();
    const res = await legacyUpload(`${p.url}/${INDEX}/`, { user: USER, password: PASSWORD }, {
      path: s.filename, filename: s.filename, content: s.content, name: project, version,
    });
    const a = { phase, atMs: started - t0, ms: Date.now() - started, res };
    drill.uploads.push(a);
    note(`upload ${s.filename} (${phase}) → ${res.status} in ${a.ms} ms`);
    return a;
  };

  const oldUuid = await storeUuid(m.url);
  try {
    await waitFor(() => drill.runs.filter((r) => r.ok).length >= 2, { what: 'two successful installs before the drill', timeoutMs: 60_000 });

    // 1. export the running master (it keeps serving); note the serial it prints
    const dump = cluster.dir('dump');
    const exp = await wheelhouseCli(['export', '--datadir', m.datadir, '--hard-links', dump]);
    assert.equal(exp.code, 0, exp.describe());
    assert.equal(exportMode(exp), 'online');
    const exportSerial = exportedSerial(exp);
    note(`1. exported serial ${exportSerial} (online)`);

    // 2. stop the master; uploads through the proxy get 503; export again if writes happened after step 1
    const serialAtStop = await m.api.statusSerial();
    await m.stop();
    note('2. master stopped');
    await waitProxyBackends(p.url, { master: false }, 15_000);
    note('proxy marks the master unusable');
    for (let i = 0; i < 3; i++) {
      await upload('outage', 'wh-outage', `0.${i}`);
      await sleep(500);
    }
    let dumpDir = dump;
    if (serialAtStop !== exportSerial) {
      dumpDir = cluster.dir('dump-final');
      const again = await wheelhouseCli(['export', '--datadir', m.datadir, dumpDir]);
      assert.equal(again.code, 0, again.describe());
      assert.equal(exportMode(again), 'direct');
      note(`2. writes after step 1: exported again at serial ${exportedSerial(again)}`);
    }

    // 3. import into a new data directory with the same secret file
    const newDir = cluster.dir('master-v2');
    const imp = await wheelhouseCli(['import', '--datadir', newDir, '--secret-file', m.secretFile, dumpDir]);
    assert.equal(imp.code, 0, imp.describe());
    note(`3. imported: ${imp.stdout.trim()}`);
    assert.ok(readFileSync(join(newDir, 'secret')).equals(readFileSync(m.secretFile)), 'the new data directory has another secret');

    // 4. start the new master on the new data directory, same address and port
    const nm = cluster.master('master-v2', { datadir: newDir });
    nm.port = m.port;
    own.push(nm);
    await nm.start();
    drill.newMaster = nm;
    drill.newUuid = await storeUuid(nm.url);
    assert.notEqual(drill.newUuid, oldUuid, 'the imported master kept the old store UUID');
    note(`4. new master ${drill.newUuid} listening on the old port`);

    // 5. replicas follow (recorded here, asserted by the test "replicas follow…")
    const followed = await Promise.all(replicas.map((r) => waitFollowed(r, nm, 60_000)));
    replicas.forEach((r, i) => {
      drill.followed.set(r.name, followed[i]!);
      note(`5. ${r.name}: ${followed[i] || 'follows the new master'}`);
    });

    note(`proxy /+status backends after step 5: ${JSON.stringify((await proxyBackends(p.url).catch(() => [])).map((b) => ({ name: b.name, up: b.up, usable: b.usable, serial: b.serial, err: b['last-error'] })))}`);
    // 6. the proxy lists all backends usable
    try {
      await waitProxyBackends(p.url, { master: true, replica1: true, replica2: true }, 20_000);
      // and they stay usable over more than the proxy's fall window (2 checks 500 ms apart)
      for (const until = Date.now() + 2_500; Date.now() < until; await sleep(100)) {
        const list = await proxyBackends(p.url);
        if (!list.every((b) => b.usable)) throw new Error(`a backend became unusable: ${JSON.stringify(list)}`);
      }
      drill.proxyAllUsable = '';
    } catch (err) {
      drill.proxyAllUsable = `${String(err)}: ${JSON.stringify(await proxyBackends(p.url).catch(() => []))}`;
    }
    note(`6. proxy: ${drill.proxyAllUsable || 'all backends usable'}`);

    // an upload through the proxy after the switch; the proxy must serve it at once (read-your-writes)
    const fresh = await upload('after switch', NEW_PROJECT, '1.0');
    if (fresh.res.status === 200) {
      try {
        const { data } = await projectJson(p.url, INDEX, NEW_PROJECT);
        const names = data.files.map((f) => f.filename);
        drill.readYourWrites = names.includes(`${NEW_PROJECT.replace(/-/g, '_')}-1.0.tar.gz`) ? '' : `the proxy served ${JSON.stringify(names)}`;
      } catch (err) {
        drill.readYourWrites = String(err);
      }
    } else drill.readYourWrites = `the upload was refused: ${describeResponse(fresh.res)}`;

    // keep installing through the proxy for a few runs on the new state (bounded)
    const okBefore = drill.runs.filter((r) => r.ok).length;
    await waitFor(() => drill.runs.filter((r) => r.ok).length >= okBefore + 3, { what: 'three more successful installs after the switch', timeoutMs: 60_000 }).catch(() => undefined);
  } finally {
    stop = true;
    await loop;
    for (const line of drill.events) t.diagnostic(line);
    t.diagnostic(`${drill.runs.length} pip installs, ${drill.runs.filter((r) => !r.ok).length} failed; building-next seen in ${drill.buildingSeen} status polls`);
  }
  assert.ok(drill.runs.length >= 6, `only ${drill.runs.length} installs ran`);
}));

test('uploads through the proxy while the master is stopped get 503 "the master is unavailable" fast, with Retry-After', { timeout: 10_000 }, () => {
  const outage = drill.uploads.filter((u) => u.phase === 'outage');
  assert.equal(outage.length, 3);
  for (const u of outage) {
    assert.equal(u.res.status, 503, `upload during the outage: ${describeResponse(u.res)}`);
    assert.ok(u.ms < FAST_MS, `upload during the outage took ${u.ms} ms`);
    assert.ok(u.res.headers.get('retry-after'), 'no Retry-After');
    assert.match(messageOf(u.res) ?? '', /master is unavailable/i, describeResponse(u.res));
  }
});

const FOLLOW_BUG =
  'bug: both --follow-new-master replicas crash (exit 1) the moment they meet the new master: Tailer.checkIdentity throws on the new UUID and pollOnce then calls res.body.destroy() on the undici body, which emits an unhandled RequestAbortedError (UND_ERR_ABORTED, "Unhandled \'error\' event" at Tailer.pollOnce, packages/replica/src/tailer.ts)';

test('step 5: each replica switches to the new master\'s state (master-uuid and serial of the new master; "switched" in its log) and stays up', { timeout: 10_000 }, () => {
  assert.equal(drill.followed.size, 2, 'the drill did not get to step 5');
  for (const [name, problem] of drill.followed) assert.equal(problem, '', `${name}: ${problem}\n${crashes()}`);
});

test('zero failed pip installs through the proxy over the whole drill', { timeout: 10_000 }, () => {
  const failures = drill.runs.filter((r) => !r.ok);
  assert.deepEqual(failures.map((r) => `${(r.startMs / 1000).toFixed(1)}–${(r.endMs / 1000).toFixed(1)}s\n${r.detail.slice(-1500)}`), [], `failed installs; timeline:\n${drill.events.join('\n')}`);
});

test('step 6: the proxy lists every backend usable after the switch', { timeout: 10_000 }, () => {
  assert.equal(drill.proxyAllUsable, '');
});

test('an upload through the proxy after the switch is acknowledged and readable through the proxy at once', { timeout: 10_000 }, () => {
  const fresh = drill.uploads.find((u) => u.phase === 'after switch');
  assert.ok(fresh, 'the drill did not get to upload after the switch');
  assert.equal(fresh.res.status, 200, describeResponse(fresh.res));
  assert.equal(drill.readYourWrites, '');
});

test('after the switch both replicas serve everything uploaded before the export and the new upload: pip installs both from each', { timeout: 150_000 }, async () => {
  const nm = drill.newMaster;
  assert.ok(nm, 'the drill did not start the new master');
  const target = await nm.api.statusSerial();
  for (const r of replicas) {
    assert.ok(r.running, `${r.name} is not running\n${crashes()}`);
    await waitFor(async () => {
      const st = await replicaStatus(r);
      return st['master-uuid'] === drill.newUuid && st.serial >= target && st['files-queued'] === 0;
    }, { what: `${r.name} at serial ${target} of ${drill.newUuid} with every file`, timeoutMs: 30_000, intervalMs: 100 });
    for (const [filename, sha] of before1) {
      const project = distNameVersion(filename).name.toLowerCase().replace(/[-_.]+/g, '-');
      const { page, data } = await projectJson(r.url, INDEX, project);
      const f = data.files.find((x) => x.filename === filename);
      assert.ok(f, `${r.name}: ${filename} missing`);
      assert.equal(sha256Hex(await fetchBytes(`${r.url}${new URL(resolveFileUrl(page.url, f.url)).pathname}`)), sha, `${r.name}: ${filename}`);
    }
    const dir = cluster.dir(`install-from-${r.name}`);
    const inst = await pipInstallTarget(simpleUrl(r.url, INDEX), dir, [fixtureName, NEW_PROJECT]);
    assert.equal(inst.code, 0, inst.describe());
    const names = dirEntries(dir) ?? [];
    assert.ok(names.some((n) => n.startsWith('wh_e2e_demo-1.0.0.dist-info')) && names.some((n) => n.startsWith('wh_after_upgrade-1.0.dist-info')), names.join(', '));
  }
});

test('a replica without --follow-new-master stops replicating (replication-fatal names the UUID change) but stays up and serves its old state', { timeout: 30_000 }, async () => {
  const r = standalone!;
  assert.ok(drill.newMaster, 'the drill did not start the new master');
  assert.ok(r.running, `${r.name} is not running\n${crashes()}`);
  const st = await waitFor(async () => {
    if (!r.running) throw new Error(`${r.name} exited`);
    return (await replicaStatus(r))['replication-fatal'] !== null;
  }, { what: `${r.name} to report replication-fatal`, timeoutMs: 20_000, intervalMs: 100 }).then(() => replicaStatus(r));
  assert.match(st['replication-fatal'] ?? '', /UUID/);
  const { data } = await projectJson(r.url, INDEX, fixtureName);
  assert.ok(data.files.some((f) => f.filename.endsWith('.whl')));
});

test('the outage uploads left nothing on the new master', { timeout: 20_000 }, async () => {
  const nm = drill.newMaster;
  assert.ok(nm, 'the drill did not get to start the new master');
  const res = await nm.api.get(`/${INDEX}/wh-outage`);
  assert.equal(res.status, 404, describeResponse(res));
});
