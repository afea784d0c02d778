import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Changelog, FileStore } from '@wheelhouse/changelog';
import { attachFile, createIndex, createUser, keys, type MirrorListRecord } from '@wheelhouse/core';
import { exportDump } from './export.js';
import { importDump, readDump } from './import.js';
import type { Manifest } from './dump-format.js';
import type { Snapshot } from './snapshot.js';

/**
 * A master's store in memory with its file store in a temp dir: alice/dev holding one release file,
 * and root/pypi, a mirror whose project list pages are stored as blobs (`mirrorlist/root/pypi`).
 */
async function masterStore(dir: string): Promise<{ snap: Snapshot; release: string; html: string; json: string }> {
  const files = new FileStore(join(dir, 'files'));
  const release = (await files.putBytes(Buffer.from('pretend sdist'))).sha256;
  const html = (await files.putBytes(Buffer.from('<html><a href="/simple/requests/">requests</a></html>'))).sha256;
  const json = (await files.putBytes(Buffer.from('{"meta":{"api-version":"1.1"},"projects":[{"name":"requests"}]}'))).sha256;
  const changelog = await Changelog.openInMemory();
  await changelog.write((tx) => {
    createUser(tx, 'alice', {});
    createUser(tx, 'root', {});
    createIndex(tx, 'alice', 'dev', {});
    createIndex(tx, 'root', 'pypi', { type: 'mirror', mirror_url: 'http://127.0.0.1:9/simple/' });
    attachFile(tx, 'alice/dev', { name: 'pkg', version: '1.0' }, { filename: 'pkg-1.0.tar.gz', sha256: release, size: 13 }, 'releasefile', 'alice');
    const list: MirrorListRecord = { html_sha256: html, json_sha256: json, html_size: 1, json_size: 1, count: 1, fetched: 0 };
    tx.set(keys.mirrorList('root/pypi'), list);
  });
  const snap: Snapshot = { changelog, files, mode: 'direct', uuid: changelog.uuid, close: () => changelog.close() };
  return { snap, release, html, json };
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'wheelhouse-dump-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// issue 10: the dump listed only `file/…` blobs, so a mirror's project list pages, which the
// replica's file replicator does fetch, were left out and an imported master served a list it lacked
test('export copies the mirror list pages a mirrorlist entry names (the dump missed them)', () =>
  withTempDir(async (dir) => {
    const { snap, release, html, json } = await masterStore(dir);
    try {
      const out = join(dir, 'dump');
      const manifest = await exportDump(snap, out);
      assert.deepEqual(Object.keys(manifest.files).sort(), [release, html, json].sort());
      assert.equal(manifest.counts.blobs, 3);
      for (const sha of [html, json]) assert.ok(await stat(join(out, 'files', sha)), `files/${sha} written`);
      const { entries, dropped } = await readDump(out);
      assert.deepEqual(dropped, []);
      assert.ok(entries.some(([key]) => key === keys.mirrorList('root/pypi')), 'the mirror list entry is imported');
      const result = await importDump(out, join(dir, 'imported'));
      assert.deepEqual(result.dropped, []);
      const imported = new FileStore(join(dir, 'imported', 'files'));
      for (const sha of [release, html, json]) assert.ok(await imported.has(sha), `blob ${sha} imported`);
    } finally {
      await snap.close();
    }
  }));

test('a dump written before mirror list pages were exported still imports, without the mirror list', () =>
  withTempDir(async (dir) => {
    const { snap, html, json } = await masterStore(dir);
    try {
      const out = join(dir, 'dump');
      await exportDump(snap, out);
      // make it what the previous version wrote: the same state, without the two page blobs
      const manifestPath = join(out, 'manifest.json');
      const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
      for (const sha of [html, json]) {
        delete manifest.files[sha];
        await unlink(join(out, 'files', sha));
      }
      manifest.counts.blobs -= 2;
      await writeFile(manifestPath, JSON.stringify(manifest));
      const { entries, dropped } = await readDump(out);
      assert.deepEqual(dropped, [keys.mirrorList('root/pypi')]);
      assert.ok(!entries.some(([key]) => key === keys.mirrorList('root/pypi')));
      assert.ok(entries.some(([key]) => key === keys.index('root', 'pypi')), 'the mirror index itself stays');
    } finally {
      await snap.close();
    }
  }));

test('a dump that lists a mirror page in its counts but lacks the blob is still refused', () =>
  withTempDir(async (dir) => {
    const { snap, html } = await masterStore(dir);
    try {
      const out = join(dir, 'dump');
      await exportDump(snap, out);
      const manifestPath = join(out, 'manifest.json');
      const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
      delete manifest.files[html];
      await writeFile(manifestPath, JSON.stringify(manifest));
      await assert.rejects(readDump(out), /manifest counts 3 blobs, the state holds 1/);
    } finally {
      await snap.close();
    }
  }));
