import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Changelog, FileStore } from '@wheelhouse/changelog';
import { attachFile, createIndex, createUser, hashPassword } from '@wheelhouse/core';
import { exportDump } from './export.js';
import { backupDatadir } from './backup.js';

/** Every path under `dir` (itself included) with its permission bits. */
async function modes(dir: string): Promise<Array<[string, number, boolean]>> {
  const out: Array<[string, number, boolean]> = [];
  const st = await stat(dir);
  out.push([dir, st.mode & 0o777, st.isDirectory()]);
  if (st.isDirectory()) for (const name of await readdir(dir)) out.push(...(await modes(join(dir, name))));
  return out;
}

function assertPrivate(entries: Array<[string, number, boolean]>): void {
  for (const [path, mode, isDir] of entries) {
    assert.equal(mode.toString(8), isDir ? '700' : '600', `${path} is ${mode.toString(8)}`);
  }
}

/** A data directory (LevelDB changelog + file store + secret) with alice (an argon2 hash) and one release file, files world-readable as a umask of 022 leaves them. */
async function datadir(dir: string): Promise<{ changelog: Changelog; files: FileStore }> {
  const files = new FileStore(join(dir, 'files'));
  const sha = (await files.putBytes(Buffer.from('pretend sdist'))).sha256;
  await chmod(files.pathFor(sha), 0o644);
  await writeFile(join(dir, 'secret'), 'x'.repeat(44), { mode: 0o644 });
  const changelog = await Changelog.open({ location: join(dir, 'db'), create: true });
  const pwhash = await hashPassword('secret');
  await changelog.write((tx) => {
    createUser(tx, 'alice', { pwhash });
    createIndex(tx, 'alice', 'dev', {});
    attachFile(tx, 'alice/dev', { name: 'pkg', version: '1.0' }, { filename: 'pkg-1.0.tar.gz', sha256: sha, size: 13 }, 'releasefile', 'alice');
  });
  return { changelog, files };
}

// issue 11: export and backup files holding argon2 hashes were written 0644 (readable by any local user)
test('export writes its directories 0700 and its files 0600, whatever the umask and the sources\' modes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wheelhouse-private-'));
  const umask = process.umask(0o022);
  try {
    const { changelog, files } = await datadir(join(dir, 'node'));
    try {
      await exportDump({ changelog, files, mode: 'direct', uuid: changelog.uuid, close: () => changelog.close() }, join(dir, 'dump'));
    } finally {
      await changelog.close();
    }
    const entries = await modes(join(dir, 'dump'));
    assert.ok(entries.some(([p]) => p.endsWith('state.jsonl')) && entries.some(([p]) => p.includes('files/')), 'state and a file written');
    assertPrivate(entries);
  } finally {
    process.umask(umask);
    await rm(dir, { recursive: true, force: true });
  }
});

test('backup writes its directories 0700 and its files (frames, blobs, secret) 0600', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wheelhouse-private-'));
  const umask = process.umask(0o022);
  try {
    const { changelog } = await datadir(join(dir, 'node'));
    await changelog.close();
    await backupDatadir(join(dir, 'node'), join(dir, 'backup'));
    const entries = await modes(join(dir, 'backup'));
    for (const name of ['changelog.frames', 'secret', 'backup.json']) assert.ok(entries.some(([p]) => p.endsWith(name)), `${name} written`);
    assertPrivate(entries);
  } finally {
    process.umask(umask);
    await rm(dir, { recursive: true, force: true });
  }
});
