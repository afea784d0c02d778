// A full disk never loses an acknowledged write nor hands a serial out twice (issue 11, part 1).
// Once, LevelDB's log hit ENOSPC, the write got a 500, the master went on acknowledging writes after
// space was freed, and at the next restart the head was back where the disk filled up: those
// serials were handed out again while the replica already had them. Here, on a 30 MB tmpfs data
// directory: fill the disk, writes are refused with 507 naming the disk (metadata and an upload),
// free the space, the master verifies its store and accepts writes again, restart: every
// acknowledged write is there, serials are gapless and unique on master and replica, and their
// state digests are equal. Then the replica's disk fills: it stops applying, and once freed it
// catches up without skipping a serial. Also: a second master on a data directory in use exits at
// once with "data directory D is in use by process N".
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, writeSync, closeSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Changelog } from '@wheelhouse/changelog';
import { TestRoot, describeResponse, notYet, waitFor, wheelhouseBin, type ApiResponse, type Credentials, type WheelhouseProcess } from '@wheelhouse/testing';
import { legacyUpload } from './legacy-upload.js';
import { waitConverged } from './replica-status.js';

const ROOT_PASSWORD = 'root-disk-full-e2e';
const ROOT: Credentials = { user: 'root', password: ROOT_PASSWORD };
const cluster = new TestRoot('disk-full');
const mounts: string[] = [];

/** Mounts a tmpfs of `sizeMb` at a new directory; undefined (and why) when mounts are not allowed here. */
function mountTmpfs(dir: string, sizeMb: number): string | undefined {
  mkdirSync(dir, { recursive: true });
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return `mount -t tmpfs failed: ${(r.stderr || r.error?.message || '').trim()}`;
  mounts.push(dir);
  return undefined;
}

/** Fills the file system holding `dir` with a file `filler` until ENOSPC; returns its path. */
function fillDisk(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(256 * 1024, 0xab);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  // the last bytes too (a partial page may remain)
  const fd2 = openSync(path, 'a');
  try {
    for (;;) writeSync(fd2, Buffer.alloc(512));
  } catch {
    // full
  } finally {
    closeSync(fd2);
  }
  return path;
}

let skipReason: string | undefined;
let masterDir = '';
let replicaDir = '';
let master: WheelhouseProcess | undefined;
let replica: WheelhouseProcess | undefined;

before(async () => {
  masterDir = cluster.dir('master');
  replicaDir = cluster.dir('replica');
  skipReason = mountTmpfs(masterDir, 30) ?? mountTmpfs(replicaDir, 30);
  if (skipReason) return;
  await cluster.init('master', ROOT_PASSWORD);
  // asynchronous replication: the drill fills the replica's disk while master writes go on (with
  // --sync-replicas 1 those writes would answer 503 ENOTREPLICATED instead, e2e/src/sync-replicas.test.ts)
  master = await cluster.master('master', { datadir: masterDir, args: ['--sync-replicas', '0'] }).start();
  replica = await cluster.replica('replica', master, { datadir: replicaDir }).start();
}, { timeout: 120_000 });

after(async () => {
  await cluster.stopAll();
  for (const dir of mounts) if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
  await cluster.cleanup();
});

function createIndex(node: WheelhouseProcess, name: string): Promise<ApiResponse> {
  return node.api.as(ROOT).put(`/root/${name}`, { bases: [] });
}

async function waitReady(node: WheelhouseProcess, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () => {
      const res = await node.api.get('/+ready');
      return res.status === 200 ? true : notYet(describeResponse(res));
    },
    { what: `${node.name} to be ready again`, timeoutMs, intervalMs: 200 },
  );
}

/** Serials of the records in a stopped node's store, and its state digest. */
async function offlineStore(dbDir: string): Promise<{ serials: number[]; digest: string; head: number; records: string[] }> {
  const store = await Changelog.open({ location: dbDir });
  try {
    const serials: number[] = [];
    const records: string[] = [];
    for await (const r of store.changesSince(0)) {
      serials.push(r.serial);
      records.push(Buffer.from(r.bytes).toString('base64'));
    }
    return { serials, digest: await store.stateDigest(), head: store.head, records };
  } finally {
    await store.close();
  }
}

test('a full disk refuses writes with 507 and loses or reuses no serial, on master and replica, across a restart', { timeout: 600_000 }, cluster.guarded(async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const m = master!;
  const r = replica!;
  const acknowledged = new Map<string, number>();
  const ack = (name: string, res: ApiResponse): void => {
    assert.ok(res.status === 200 || res.status === 201, `creating ${name}: ${describeResponse(res)}`);
    acknowledged.set(name, res.serial ?? -1);
  };
  for (const name of ['a1', 'a2']) ack(name, await createIndex(m, name));

  // the master's disk fills up
  const filler = fillDisk(masterDir);
  // LevelDB's log may still have room in its last page: write until the disk refuses (bounded)
  let patch: ApiResponse | undefined;
  // descriptions carry the bulk (a title is limited to 256 characters, a description to 64 KiB)
  let lastTitle = '';
  for (let i = 0; i < 2_000; i++) {
    const title = `written on a full disk ${i}`;
    patch = await m.api.as(ROOT).patch('/root/a1', { title, description: 'x'.repeat(2_000) });
    if (patch.status !== 200) break;
    lastTitle = title;
    acknowledged.set(`patch ${i}`, patch.serial ?? -1);
  }
  assert.ok(patch);
  t.diagnostic(`${acknowledged.size - 2} PATCHes acknowledged on the full disk before the first refusal`);
  assert.equal(patch.status, 507, describeResponse(patch));
  assert.match(String((patch.json as { message?: unknown }).message), new RegExp(`no space left on the disk holding ${masterDir}`), describeResponse(patch));
  const refused = await createIndex(m, 'never');
  assert.ok(refused.status === 507 || refused.status === 503, `a write after the failure must be refused: ${describeResponse(refused)}`);
  const upload = await legacyUpload(`${m.url}/root/a2/`, ROOT, { path: 'full-1.0.tar.gz', filename: 'full-1.0.tar.gz', content: randomBytes(64 * 1024), name: 'full', version: '1.0' });
  assert.ok(upload.status === 507 || upload.status === 503, `an upload on a full disk: ${describeResponse(upload)}`);
  const ready = await m.api.get('/+ready');
  assert.equal(ready.status, 503, `/+ready while writes are refused: ${describeResponse(ready)}`);
  const status = await m.status();
  t.diagnostic(`storage while full: ${JSON.stringify(status['storage'])}`);
  assert.notEqual((status['storage'] as { state?: string }).state, 'ok');
  const metrics = await m.api.get('/+metrics');
  assert.match(metrics.text, /wheelhouse_storage_failures [1-9]/);

  // space is freed: the master reopens and verifies its store by itself, then writes resume
  rmSync(filler);
  await waitReady(m);
  for (const name of ['b1', 'b2', 'b3', 'b4', 'b5']) ack(name, await createIndex(m, name));
  const upload2 = await legacyUpload(`${m.url}/root/a2/`, ROOT, { path: 'full-1.0.tar.gz', filename: 'full-1.0.tar.gz', content: randomBytes(64 * 1024), name: 'full', version: '1.0' });
  assert.ok(upload2.status >= 200 && upload2.status < 300, describeResponse(upload2));
  ack('upload full-1.0', upload2);
  const headBefore = await m.api.statusSerial();
  await waitConverged(m, [r], 60_000);

  // restart: nothing acknowledged is gone, the head is where it was
  await m.stop();
  await m.restart();
  assert.equal(await m.api.statusSerial(), headBefore, 'the head after the restart is the last acknowledged serial');
  const a1 = await m.api.get('/root/a1');
  if (lastTitle) assert.equal((a1.json as { result?: { title?: string } }).result?.title, lastTitle, 'the last acknowledged PATCH survives the restart');
  for (const name of acknowledged.keys()) {
    if (name.includes(' ')) continue;
    const res = await m.api.get(`/root/${name}`);
    assert.equal(res.status, 200, `index root/${name} (acknowledged at serial ${acknowledged.get(name)}) after the restart: ${describeResponse(res)}`);
  }
  assert.equal((await m.api.get('/root/never')).status, 404, 'a refused write must not appear');
  const more = await createIndex(m, 'after-restart');
  ack('after-restart', more);
  assert.equal(more.serial, headBefore + 1, 'the first serial after the restart follows the last acknowledged one');

  // the replica's disk fills: it stops applying; master writes go on; freed, it catches up without a gap
  await waitConverged(m, [r], 60_000);
  const replicaFiller = fillDisk(replicaDir);
  // master writes go on until the replica's apply hits its full disk (its log may have room for a few)
  let replicaRefused = false;
  for (let i = 0; i < 300 && !replicaRefused; i++) {
    ack(`c${i}`, await m.api.as(ROOT).put(`/root/c${i}`, { bases: [], description: 'y'.repeat(4_000) }));
    replicaRefused = await waitFor(
      async () => {
        const [ready, status] = await Promise.all([r.api.get('/+ready'), r.status()]);
        if (ready.status === 503 && (status['storage'] as { state?: string } | undefined)?.state !== 'ok') return true;
        return status['serial'] === acknowledged.get(`c${i}`) ? false : notYet(`replica at ${String(status['serial'])}`);
      },
      { what: `the replica to apply c${i} or report its storage failure`, timeoutMs: 30_000, intervalMs: 50 },
    );
  }
  assert.ok(replicaRefused, 'the replica never reported its full disk');
  const replicaStorage = (await r.status())['storage'];
  t.diagnostic(`replica storage while full: ${JSON.stringify(replicaStorage)}`);
  rmSync(replicaFiller);
  await waitConverged(m, [r], 60_000);

  await m.stop();
  await r.stop();
  const onMaster = await offlineStore(join(masterDir, 'db'));
  const onReplica = await offlineStore(join(replicaDir, 'db'));
  assert.deepEqual(onMaster.serials, Array.from({ length: onMaster.head + 1 }, (_, i) => i), 'master serials are gapless 0..head');
  assert.deepEqual(onReplica.serials, onMaster.serials, 'the replica holds exactly the master\'s serials');
  assert.deepEqual(onReplica.records, onMaster.records, 'the replica\'s records are the master\'s bytes');
  assert.equal(onReplica.digest, onMaster.digest, 'state digests are equal');
  for (const [name, serial] of acknowledged) assert.ok(serial >= 0 && serial <= onMaster.head, `root/${name} was acknowledged at serial ${serial}`);
  assert.equal(new Set(acknowledged.values()).size, acknowledged.size, 'no serial was acknowledged twice');
  t.diagnostic(`head ${onMaster.head}, ${acknowledged.size} writes acknowledged, digest ${onMaster.digest.slice(0, 16)}…`);
}));

test('a second master on a data directory in use exits at once with the pid of its holder', { timeout: 120_000 }, cluster.guarded(async (t) => {
  if (skipReason || !master) {
    t.skip(skipReason ?? 'the first test stopped the master');
    return;
  }
  const m = master;
  if (!m.running) await m.restart();
  const started = Date.now();
  const second = spawnSync(process.execPath, [wheelhouseBin, 'master', '--datadir', masterDir, '--host', '127.0.0.1', '--port', '0'], { encoding: 'utf8', timeout: 60_000 });
  t.diagnostic(`second master exited ${second.status} after ${Date.now() - started} ms: ${second.stderr.trim()}`);
  assert.equal(second.status, 1);
  assert.equal(second.stderr.trim(), `wheelhouse: data directory ${masterDir} is in use by process ${m.pid}`);
  assert.doesNotMatch(second.stderr, /Database failed to open|\n\s+at /);
  assert.ok(m.running, 'the first master keeps running');
}));
