// A full disk is recovered by deleting a volatile index (issue 16). Before blob garbage collection,
// deleting an index freed no byte: a master whose disk filled up with CI uploads stayed full. Here,
// on a 40 MB tmpfs data directory: a volatile index is filled with 1 MiB uploads until less than
// 2.5 MiB are free, a 3 MiB upload is then refused with 507 naming the disk; the index is deleted
// (a small changelog write, which the nearly full disk still holds) and the same upload is still
// refused — deleting alone frees nothing; `wheelhouse gc` frees the index's blobs and reports their
// bytes, which are what the file system gained and what /+status and /+metrics report; then the
// refused upload is accepted, the master's storage state is `ok` and a restart keeps it all.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, statfsSync } from 'node:fs';
import { TestRoot, describeResponse, type Credentials, type WheelhouseProcess } from '@wheelhouse/testing';
import { legacyUpload } from './legacy-upload.js';
import { wheelhouseCli } from './dump-tools.js';

const ROOT_PASSWORD = 'root-disk-full-gc';
const ROOT: Credentials = { user: 'root', password: ROOT_PASSWORD };
const MIB = 1024 * 1024;
const TMPFS_MB = 40;
const cluster = new TestRoot('disk-full-gc');
let mounted: string | undefined;
let skipReason: string | undefined;
let master: WheelhouseProcess | undefined;

/** Mounts a tmpfs of `sizeMb` at `dir`; the reason when mounts are not allowed here. */
function mountTmpfs(dir: string, sizeMb: number): string | undefined {
  mkdirSync(dir, { recursive: true });
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root (CI runs this test as root)';
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return `mount -t tmpfs failed: ${(r.stderr || r.error?.message || '').trim()}`;
  mounted = dir;
  return undefined;
}

/** Bytes free for an unprivileged writer on the file system holding `dir` (root may use no reserve on tmpfs). */
function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

before(async () => {
  const dir = cluster.dir('master');
  skipReason = mountTmpfs(dir, TMPFS_MB);
  if (skipReason) return;
  await cluster.init('master', ROOT_PASSWORD);
  // collection on demand only, no grace period: the test decides when it runs
  master = await cluster.master('master', { datadir: dir, args: ['--gc-interval', '0', '--gc-grace', '0'] }).start();
}, { timeout: 120_000 });

after(async () => {
  await cluster.stopAll();
  if (mounted && spawnSync('umount', [mounted]).status !== 0) spawnSync('umount', ['-l', mounted]);
  await cluster.cleanup();
});

function upload(m: WheelhouseProcess, index: string, project: string, version: string, bytes: number): ReturnType<typeof legacyUpload> {
  const filename = `${project}-${version}.tar.gz`;
  return legacyUpload(`${m.url}/${index}/`, ROOT, { path: filename, filename, content: randomBytes(bytes), name: project, version });
}

test('deleting a volatile index on a nearly full disk, then collecting, frees its bytes and writes work again', { timeout: 300_000 }, cluster.guarded(async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const m = master!;
  const dir = m.datadir;
  for (const index of ['scratch', 'keep']) {
    const res = await m.api.as(ROOT).put(`/root/${index}`, { bases: [], volatile: true });
    assert.equal(res.status, 200, describeResponse(res));
  }
  // a kept file: collection must not touch it
  const kept = await upload(m, 'root/keep', 'kept', '1.0', 64 * 1024);
  assert.equal(kept.status, 200, describeResponse(kept));

  // fill the volatile index until the disk is nearly full (bounded: the tmpfs holds at most 40 files)
  let uploaded = 0;
  for (let i = 0; freeBytes(dir) > 2.5 * MIB; i++) {
    assert.ok(i < TMPFS_MB, `the disk never filled: ${freeBytes(dir)} bytes free after ${i} uploads`);
    const res = await upload(m, 'root/scratch', 'ci-build', `1.0.dev${i}`, MIB);
    assert.equal(res.status, 200, `upload ${i} with ${freeBytes(dir)} bytes free: ${describeResponse(res)}`);
    uploaded += MIB;
  }
  t.diagnostic(`${uploaded / MIB} MiB uploaded, ${freeBytes(dir)} bytes free`);
  const refused = await upload(m, 'root/keep', 'big', '1.0', 3 * MIB);
  assert.equal(refused.status, 507, describeResponse(refused));
  assert.match(String((refused.json as { message?: unknown }).message), /no space left on the disk/, describeResponse(refused));

  // deleting the index is a small changelog write the nearly full disk still takes; it frees nothing yet
  const del = await m.api.as(ROOT).delete('/root/scratch');
  assert.ok(del.status === 200 || del.status === 201, describeResponse(del));
  const stillFull = await upload(m, 'root/keep', 'big', '1.0', 3 * MIB);
  assert.equal(stillFull.status, 507, `deleting the index alone must free nothing: ${describeResponse(stillFull)}`);

  const freeBefore = freeBytes(dir);
  const gc = await wheelhouseCli(['gc', '--url', m.url, '--secret-file', m.secretFile, '--json']);
  assert.equal(gc.code, 0, gc.describe());
  const report = JSON.parse(gc.stdout) as { freedFiles: number; freedBytes: number; held: string | null };
  const gained = freeBytes(dir) - freeBefore;
  t.diagnostic(`gc: ${JSON.stringify(report)}; the file system gained ${gained} bytes`);
  assert.equal(report.held, null, gc.stdout);
  assert.equal(report.freedFiles, uploaded / MIB, 'every blob of the deleted index, and nothing else');
  assert.equal(report.freedBytes, uploaded);
  // tmpfs counts whole pages: the gain is the freed bytes, rounded up per file
  assert.ok(gained >= report.freedBytes && gained <= report.freedBytes + report.freedFiles * 4096 * 2, `freed ${report.freedBytes} bytes, the file system gained ${gained}`);
  const status = await m.status();
  assert.equal((status['storage'] as { state?: string }).state, 'ok', JSON.stringify(status['storage']));
  const usage = status['disk-usage'] as { 'store-bytes': number; indexes: Record<string, { files: number; bytes: number }> };
  assert.equal(usage.indexes['root/scratch'], undefined, JSON.stringify(usage));
  assert.equal(usage.indexes['root/keep']?.files, 1, JSON.stringify(usage));
  assert.equal(usage['store-bytes'], 64 * 1024, 'only the kept file is left in the store');
  // and the status page for people says it
  const page = await (await fetch(`${m.url}/+status`, { headers: { Accept: 'text/html' } })).text();
  assert.match(page, /<h2 id="storage-h">Storage<\/h2>/);
  assert.match(page, new RegExp(`freed ${report.freedFiles} files \\(${(uploaded / 1e6).toFixed(0)} MB\\)`), page.slice(page.indexOf('storage-h'), page.indexOf('storage-h') + 2000));
  assert.match(page, /<td>root\/keep<\/td>/);
  assert.doesNotMatch(page, /<td>root\/scratch<\/td>/);
  const metrics = await m.api.get('/+metrics');
  assert.match(metrics.text, new RegExp(`^wheelhouse_gc_freed_bytes_total ${uploaded}$`, 'm'));

  // writes work again: the refused upload, and metadata
  const accepted = await upload(m, 'root/keep', 'big', '1.0', 3 * MIB);
  assert.equal(accepted.status, 200, describeResponse(accepted));
  const again = await m.api.as(ROOT).put('/root/scratch', { bases: [], volatile: true });
  assert.equal(again.status, 200, describeResponse(again));
  const keptFile = await fetch(`${m.url}/root/keep/+simple/kept/`);
  assert.equal(keptFile.status, 200);
  assert.match(await keptFile.text(), /kept-1\.0\.tar\.gz/);

  // and a restart keeps it: the head is where it was
  const head = await m.api.statusSerial();
  await m.stop();
  await m.restart();
  assert.equal(await m.api.statusSerial(), head);
  const big = await fetch(`${m.url}/root/keep/+simple/big/`);
  assert.match(await big.text(), /big-1\.0\.tar\.gz/);
}));
