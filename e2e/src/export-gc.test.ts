// Exports and garbage collection of a running master (issue 16): blobs an export still copies are
// never collected under it, and are collected once it ends.
//
// 1. Deterministic interleaving: the test process opens the export's snapshot of the running master
//    (`openSnapshot`, what `wheelhouse export` does first: it takes the blob lease, then reads the
//    state through the master's changelog feed), then versions and a whole index the snapshot names
//    are deleted on the master and `wheelhouse gc` runs — before and while `exportDump` copies the
//    files. It is held by the lease and frees nothing; the export completes; imported into a fresh
//    data directory it is the store as it was before the deletions (every API document and file
//    byte). After the snapshot is closed, `wheelhouse gc` frees exactly the dropped blobs.
//    (The CLI has no point to pause it at, so this part drives the same functions the CLI calls.)
// 2. The real `wheelhouse export` process of the running master, with collections running in a loop
//    beside it right after blobs were dropped: it completes, and its dump imports and verifies.
//
// A replica that is behind keeping the master from collecting blobs it may still fetch is in
// retention-gc.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { exportDump, openSnapshot } from '@wheelhouse/master';
import { TestRoot, describeResponse, sha256Hex, type Credentials, type WheelhouseProcess } from '@wheelhouse/testing';
import { legacyUpload } from './legacy-upload.js';
import { apiTree, diffTrees, exportedSerial, exportMode, fetchBytes, readManifest, wheelhouseCli, type ApiTree } from './dump-tools.js';

const ROOT_PASSWORD = 'root-export-gc';
const ROOT: Credentials = { user: 'root', password: ROOT_PASSWORD };
const cluster = new TestRoot('export-gc');
let master: WheelhouseProcess | undefined;

before(async () => {
  master = await cluster.startMaster('master', ROOT_PASSWORD, { args: ['--gc-interval', '0', '--gc-grace', '0'] });
}, { timeout: 120_000 });

after(() => cluster.cleanup({ graceful: true }));

interface Uploaded {
  sha256: string;
  size: number;
}

async function upload(m: WheelhouseProcess, index: string, project: string, version: string): Promise<Uploaded> {
  const filename = `${project}-${version}.tar.gz`;
  const content = randomBytes(128 * 1024 + Math.floor(Math.random() * 4096));
  const res = await legacyUpload(`${m.url}/${index}/`, ROOT, { path: filename, filename, content, name: project, version });
  assert.equal(res.status, 200, `upload ${filename} to ${index}: ${describeResponse(res)}`);
  return { sha256: sha256Hex(content), size: content.length };
}

type GcReport = { freedFiles: number; freedBytes: number; candidates: number; held: string | null };

async function gc(m: WheelhouseProcess): Promise<GcReport> {
  const r = await wheelhouseCli(['gc', '--url', m.url, '--secret-file', m.secretFile, '--json']);
  assert.equal(r.code, 0, r.describe());
  return JSON.parse(r.stdout) as GcReport;
}

function blobPath(m: WheelhouseProcess, sha: string): string {
  return `${m.datadir}/files/sha256/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}`;
}

/** Imports `dumpDir` into a fresh data directory, starts a master on it and checks it holds `expected` (documents and file bytes). */
async function importAndCompare(name: string, dumpDir: string, expected: ApiTree, bytes: ReadonlyMap<string, string>): Promise<void> {
  const datadir = cluster.dir(name);
  const imp = await wheelhouseCli(['import', '--datadir', datadir, dumpDir]);
  assert.equal(imp.code, 0, imp.describe());
  const imported = await cluster.master(name, { datadir }).start();
  try {
    const tree = await apiTree(imported.url);
    assert.deepEqual(diffTrees(expected, tree, ['source', 'imported']), []);
    assert.deepEqual([...tree.files].sort(), [...expected.files].sort());
    for (const [path, sha] of bytes) assert.equal(sha256Hex(await fetchBytes(`${imported.url}${path}`)), sha, `${path}: other bytes after the import`);
  } finally {
    await imported.stop();
  }
}

async function fileBytesOf(m: WheelhouseProcess, tree: ApiTree): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const path of tree.files) out.set(path, sha256Hex(await fetchBytes(`${m.url}${path}`)));
  return out;
}

test('blobs dropped under a running export are kept until it ends, then collected; the export imports as the store it saw', { timeout: 300_000 }, cluster.guarded(async (t) => {
  const m = master!;
  for (const index of ['root/ci', 'root/tmp']) {
    const res = await m.api.as(ROOT).put(`/${index}`, { bases: [], volatile: true });
    assert.equal(res.status, 200, describeResponse(res));
  }
  const dropped: Uploaded[] = [];
  for (const v of ['1.0', '1.1', '1.2']) dropped.push(await upload(m, 'root/ci', 'exgc', v));
  await upload(m, 'root/ci', 'exgc', '2.0');
  for (const v of ['0.1', '0.2']) dropped.push(await upload(m, 'root/tmp', 'exgc-tmp', v));
  const expected = await apiTree(m.url);
  const bytes = await fileBytesOf(m, expected);
  assert.ok(expected.docs.has('/root/ci/exgc/1.0') && expected.docs.has('/root/tmp/exgc-tmp/0.2'), [...expected.docs.keys()].join(' '));
  const serial = await m.api.statusSerial();

  const snap = await openSnapshot(m.datadir, { secretFile: m.secretFile });
  let closed = false;
  try {
    assert.equal(snap.mode, 'online');
    assert.equal(snap.changelog.head, serial);
    // drop what the snapshot names: three versions and a whole index
    for (const v of ['1.0', '1.1', '1.2']) {
      const del = await m.api.as(ROOT).delete(`/root/ci/exgc/${v}`);
      assert.equal(del.status, 200, describeResponse(del));
    }
    const delIndex = await m.api.as(ROOT).delete('/root/tmp');
    assert.ok(delIndex.status === 200 || delIndex.status === 201, describeResponse(delIndex));

    const held = await gc(m);
    t.diagnostic(`gc under the export's lease: ${JSON.stringify(held)}`);
    assert.equal(held.held, 'lease');
    assert.equal(held.candidates, dropped.length, 'the dropped blobs are candidates');
    assert.equal(held.freedFiles, 0);
    // a collection while the files are copied
    const out = cluster.dir('dump');
    const [manifest, during] = await Promise.all([exportDump(snap, out), gc(m)]);
    assert.equal(during.held, 'lease');
    assert.equal(during.freedFiles, 0);
    assert.equal(manifest.serial, serial);
    for (const b of dropped) assert.equal(manifest.files[b.sha256], b.size, `the dump holds dropped blob ${b.sha256}`);
    for (const b of dropped) assert.ok(existsSync(blobPath(m, b.sha256)), `blob ${b.sha256} was collected under the export`);
    await snap.close();
    closed = true;

    const swept = await gc(m);
    t.diagnostic(`gc after the export: ${JSON.stringify(swept)}`);
    assert.equal(swept.held, null);
    assert.equal(swept.freedFiles, dropped.length);
    assert.equal(swept.freedBytes, dropped.reduce((n, b) => n + b.size, 0));
    for (const b of dropped) assert.ok(!existsSync(blobPath(m, b.sha256)), `blob ${b.sha256} was not collected after the export`);

    await importAndCompare('imported', out, expected, bytes);
  } finally {
    if (!closed) await snap.close();
  }
}));

test('the wheelhouse export process of a running master completes and verifies while collections run beside it', { timeout: 300_000 }, cluster.guarded(async (t) => {
  const m = master!;
  const res = await m.api.as(ROOT).put('/root/cli', { bases: [], volatile: true });
  assert.equal(res.status, 200, describeResponse(res));
  for (let i = 0; i < 20; i++) await upload(m, 'root/cli', 'exgc-cli', `1.${i}`);
  for (let i = 0; i < 10; i++) {
    const del = await m.api.as(ROOT).delete(`/root/cli/exgc-cli/1.${i}`);
    assert.equal(del.status, 200, describeResponse(del));
  }
  const expected = await apiTree(m.url);
  const bytes = await fileBytesOf(m, expected);
  const serial = await m.api.statusSerial();

  const out = cluster.dir('dump-cli');
  let exported = false;
  const exporting = wheelhouseCli(['export', '--datadir', m.datadir, out]).finally(() => (exported = true));
  const reports: GcReport[] = [];
  // bounded: the export of 10 small files ends long before 100 collections
  for (let i = 0; i < 100 && !exported; i++) reports.push(await gc(m));
  const ex = await exporting;
  assert.equal(ex.code, 0, ex.describe());
  assert.equal(exportMode(ex), 'online', ex.stdout);
  assert.equal(exportedSerial(ex), serial);
  assert.equal(readManifest(out).serial, serial);
  t.diagnostic(`collections beside the export: ${reports.map((r) => `${r.held ?? 'swept'}:${r.freedFiles}`).join(' ')}`);
  assert.ok(reports.length > 0);
  for (const r of reports) if (r.held === 'lease') assert.equal(r.freedFiles, 0, 'a collection under a lease removed files');
  await importAndCompare('imported-cli', out, expected, bytes);
  const last = await gc(m);
  assert.equal(last.held, null, 'the export released its lease');
  assert.equal(reports.reduce((n, r) => n + r.freedFiles, 0) + last.freedFiles, 10, 'the ten dropped files are collected once');
}));
