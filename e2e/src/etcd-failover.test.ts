// Automatic failover on etcd (issue 14 part 4): etcd, a master and two replicas with `--etcd`, the
// proxy following the leader key. Through the proxy an upload loop (real twine every few hundred
// ms, plus a raw uploader at concurrency 4) and a pip install loop run; the master is SIGKILLed.
// Uploads succeed again within 10 s (the lease lapses, the most caught-up replica is elected by
// the etcd transaction, promotes itself in place with the next epoch, the proxy re-points), installs
// never fail, and afterwards every acknowledged upload is on every node byte for byte. The old
// master, restarted on its data directory, finds etcd's higher epoch and stays fenced (its writes
// refused); `wheelhouse rejoin` makes it a replica that converges to the new master's state digest.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalEtcd, type LocalEtcd } from '@wheelhouse/failover';
import { buildSdist, FailoverCluster, run, sleep, waitFor, wheelhouseBin, type WheelhouseProcess } from '@wheelhouse/testing';
import { ApiClient, buildFixture, createIndex, createUser, fixtureName, legacyUpload, makeVenv, pipInstall, projectJson, twineUpload } from './harness.js';
import { blobPath, storeState } from './node-state.js';
import { readFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';

const haveEtcd = spawnSync('etcd', ['--version']).status === 0;
/** Semi-synchronous replication (issue 14 part 2) where this build has it: acknowledged means on a replica. */
const syncReplicas = spawnSync(process.execPath, [wheelhouseBin, 'master', '--help'], { encoding: 'utf8' }).stdout.includes('--sync-replicas');
const skip = haveEtcd ? false : 'etcd is not on PATH (apt-get install etcd-server)';
const ROOT_PASSWORD = 'failover-root';
const USER = 'fo';
const PASSWORD = 'fo-pw';
const INDEX = `${USER}/dev`;
const PROJECT = 'wh-failover-drill';
/**
 * Uploads must succeed again within this after the SIGKILL. The target is 10 s with the default
 * 5 s lease (issue 14) and is what `npm run bench` (failover part) measures; the test's bound is
 * wider so a loaded CI machine (node start-up and promotion slow down several times) does not make
 * it flaky — it still fails when failover does not happen or hangs.
 */
const FAILOVER_BOUND_MS = 30_000;

let etcd: LocalEtcd | undefined;
let cluster: FailoverCluster | undefined;
let failed = false;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

before(async () => {
  if (!haveEtcd) return;
  const dir = join(tmpdir(), `wh-etcd-e2e-${process.pid}`);
  etcd = await startLocalEtcd(join(dir, 'etcd'));
  cluster = await FailoverCluster.start({ label: 'etcd-failover', rootPassword: ROOT_PASSWORD, etcdUrl: etcd.url, ...(syncReplicas ? { masterArgs: ['--sync-replicas', '1'] } : {}) });
  const viaProxy = new ApiClient(cluster.proxy.url);
  await createUser(viaProxy.as({ user: 'root', password: ROOT_PASSWORD }), USER, PASSWORD);
  await createIndex(viaProxy.as({ user: USER, password: PASSWORD }), INDEX);
}, { timeout: 120_000 });

after(async () => {
  await cluster?.stop(failed);
  await etcd?.stop();
});

interface Upload {
  readonly by: 'twine' | 'raw';
  /** When the upload started and when its answer came, ms since the loops began. */
  readonly startMs: number;
  readonly atMs: number;
  readonly ok: boolean;
  readonly filename: string;
  readonly detail: string;
}

test('failover drill: SIGKILL the master; uploads resume, installs never fail, acknowledged uploads on every node (files of the last moment only with --sync-replicas), the old master stays fenced and rejoins', { skip, timeout: 180_000 }, async (t) => {
  const c = cluster!;
  t.after(() => {
    if (failed) for (const n of c.nodes) t.diagnostic(`--- ${n.name}\n${n.logTail(30)}`);
  });
  try {
    const work = join(c.root, 'work');
    mkdirSync(work);
    const venv = await makeVenv(join(work, 'venv'));
    const fx = await buildFixture();
    const first = await twineUpload({ repositoryUrl: `${c.proxy.url}/${INDEX}/`, user: USER, password: PASSWORD, files: [fx.sdist, fx.wheel] });
    assert.equal(first.code, 0, first.describe());

    const acknowledged = new Map<string, string>(); // file name → sha256
    const uploads: Upload[] = [];
    const installs: Array<{ atMs: number; ok: boolean; detail: string }> = [];
    let version = 0;
    let stop = false;
    const t0 = Date.now();
    const rawUploader = async (): Promise<void> => {
      while (!stop) {
        const v = `1.0.${version++}`;
        const sdist = buildSdist(PROJECT, v);
        const startMs = Date.now() - t0;
        const res = await legacyUpload(`${c.proxy.url}/${INDEX}/`, { user: USER, password: PASSWORD }, { path: sdist.filename, filename: sdist.filename, content: sdist.content, name: PROJECT, version: v }).catch((err: Error) => ({ status: 0, text: err.message }));
        uploads.push({ by: 'raw', startMs, atMs: Date.now() - t0, ok: res.status === 200, filename: sdist.filename, detail: `${res.status} ${res.text.replace(/\s+/g, " ").slice(0, 300)}` });
        if (res.status === 200) acknowledged.set(sdist.filename, sdist.sha256);
        else await sleep(100);
      }
    };
    const twineLoop = async (): Promise<void> => {
      while (!stop) {
        const v = `2.0.${version++}`;
        const sdist = buildSdist(PROJECT, v);
        const path = join(work, sdist.filename);
        writeFileSync(path, sdist.content);
        const startMs = Date.now() - t0;
        const r = await twineUpload({ repositoryUrl: `${c.proxy.url}/${INDEX}/`, user: USER, password: PASSWORD, files: [path] });
        uploads.push({ by: 'twine', startMs, atMs: Date.now() - t0, ok: r.code === 0, filename: sdist.filename, detail: r.code === 0 ? '' : r.describe().slice(-300) });
        if (r.code === 0) acknowledged.set(sdist.filename, sdist.sha256);
        await sleep(300);
      }
    };
    const installLoop = async (): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const r = await pipInstall(venv, { indexUrl: `${c.proxy.url}/${INDEX}/+simple/`, requirements: [fixtureName], extraArgs: ['--target', join(work, `target-${i}`), '--retries', '0'], timeoutMs: 60_000 });
        installs.push({ atMs: Date.now() - t0, ok: r.code === 0, detail: r.code === 0 ? '' : r.describe().slice(-400) });
      }
    };
    const loops = [twineLoop(), installLoop(), ...Array.from({ length: 4 }, () => rawUploader())];

    await waitFor(() => uploads.filter((u) => u.ok).length >= 8, { timeoutMs: 60_000, what: 'uploads before the kill' });
    const killedAt = Date.now() - t0;
    const oldMaster = c.master;
    await oldMaster.kill('SIGKILL');
    // the first success of an upload sent after the kill (one in flight may still have been answered by the old master)
    const resumed = await waitFor(() => uploads.find((u) => u.ok && u.startMs > killedAt), { timeoutMs: 40_000, what: 'an upload sent after the kill to succeed' });
    const failoverMs = resumed.atMs - killedAt;
    t.diagnostic(`first successful upload ${failoverMs} ms after the SIGKILL (${resumed.by})`);
    const ackedBeforeKill = new Set(uploads.filter((u) => u.ok && u.startMs <= killedAt).map((u) => u.filename));
    for (const u of uploads.filter((x) => x.atMs > killedAt && x.atMs <= resumed.atMs).slice(-6)) t.diagnostic(`after the kill: ${u.atMs - killedAt} ms ${u.by} ${u.ok ? 'ok' : u.detail}`);
    await waitFor(() => installs.filter((i) => i.atMs > resumed.atMs).length >= 2 && uploads.filter((u) => u.ok && u.atMs > resumed.atMs).length >= 8, { timeoutMs: 60_000, what: 'the loops to run on the new master' });
    stop = true;
    await Promise.all(loops);

    assert.ok(failoverMs <= FAILOVER_BOUND_MS, `uploads resumed ${failoverMs} ms after the SIGKILL (bound ${FAILOVER_BOUND_MS} ms)`);
    const failedInstalls = installs.filter((i) => !i.ok);
    assert.deepEqual(failedInstalls, [], `installs failed: ${failedInstalls.map((i) => `${i.atMs} ms: ${i.detail}`).join('\n')}`);

    // who leads now: the proxy's view of the leader key
    const proxyStatus = (await c.proxy.status()) as { failover?: { leader?: { url: string; epoch: number } } };
    const leader = proxyStatus.failover?.leader;
    assert.ok(leader && leader.epoch === 2, `epoch 2 leads (${JSON.stringify(proxyStatus.failover)})`);
    const newMaster = c.replicas.find((r) => r.url === leader.url)!;
    const otherReplica = c.replicas.find((r) => r !== newMaster)!;
    assert.ok(newMaster, `the leader ${leader.url} is one of the replicas`);
    const head = Number((await newMaster.status())['serial']);
    await waitFor(async () => Number((await otherReplica.status())['serial']) >= head, { timeoutMs: 30_000, what: 'the other replica to catch up' });

    // every acknowledged upload is listed on both live nodes with its sha256; its bytes are there
    // (file replication may trail the records by a moment: waited for) — for uploads acknowledged
    // before the kill only when the master waited for a replica (--sync-replicas): without it, a
    // file the killed master acknowledged but no replica had fetched yet is not on the new master
    // (the documented limit of asynchronous replication; the old master's disk still has it)
    const problems = async (): Promise<{ hard: string[]; unreplicated: string[] }> => {
      const hard: string[] = [];
      const unreplicated: string[] = [];
      for (const node of [newMaster, otherReplica]) {
        const { data } = await projectJson(node.url, INDEX, PROJECT);
        const listed = new Map(data.files.map((f) => [f.filename, f.hashes['sha256']]));
        for (const [filename, digest] of acknowledged) {
          if (listed.get(filename) !== digest) hard.push(`${filename} not listed with its sha256 on ${node.name}`);
          const path = blobPath(node.datadir, digest);
          if (existsSync(path) && sha256(readFileSync(path)) === digest) continue;
          (!syncReplicas && ackedBeforeKill.has(filename) ? unreplicated : hard).push(`${filename}'s bytes missing on ${node.name}`);
        }
      }
      return { hard, unreplicated };
    };
    let seen = await problems();
    await waitFor(async () => (seen = await problems()).hard.length === 0, { timeoutMs: 30_000, what: 'every acknowledged upload on every live node' }).catch(() => undefined);
    assert.deepEqual(seen.hard, [], 'acknowledged uploads on every live node, byte for byte');
    if (seen.unreplicated.length) t.diagnostic(`without --sync-replicas, files acknowledged just before the kill and not yet replicated: ${seen.unreplicated.join('; ')}`);

    // the old master comes back on its data directory: etcd's epoch is higher, it stays fenced
    await oldMaster.start({ waitReady: false });
    await waitFor(async () => ((await oldMaster.status())['fenced'] as unknown) !== false, { timeoutMs: 20_000, what: 'the old master to fence itself' });
    const direct = await legacyUpload(`${oldMaster.url}/${INDEX}/`, { user: USER, password: PASSWORD }, { path: 'x.tar.gz', filename: `${PROJECT}-9.9.9.tar.gz`, content: buildSdist(PROJECT, '9.9.9').content, name: PROJECT, version: '9.9.9' });
    assert.equal(direct.status, 503, `a write to the old master is refused: ${direct.text}`);
    assert.match(direct.text, /fenced/);

    // rejoin: it becomes a replica of the new master and converges to the same state
    await oldMaster.stop();
    const rejoin = await run(process.execPath, [wheelhouseBin, 'rejoin', '--datadir', oldMaster.datadir, '--master-url', newMaster.url], { timeoutMs: 60_000 });
    assert.equal(rejoin.code, 0, rejoin.describe());
    const rejoined = c.testRoot.node({ name: 'old-master-rejoined', role: 'replica', datadir: oldMaster.datadir, args: ['--master-url', newMaster.url, '--secret-file', oldMaster.secretFile, ...c.etcdArgs] });
    await rejoined.start();
    const finalHead = Number((await newMaster.status())['serial']);
    await waitFor(async () => Number((await rejoined.status())['serial']) >= finalHead, { timeoutMs: 30_000, what: 'the rejoined node to catch up' });
    await rejoined.stop();
    await newMaster.stop();
    await otherReplica.stop();
    const want = await storeState(newMaster.datadir);
    assert.deepEqual(await storeState(rejoined.datadir), want, 'the rejoined old master has the new master\'s state digest');
    assert.deepEqual(await storeState(otherReplica.datadir), want, 'the other replica has the new master\'s state digest');
  } catch (err) {
    failed = true;
    throw err;
  }
});
