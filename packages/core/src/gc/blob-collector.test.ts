import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Changelog, FileStore } from '@wheelhouse/changelog';
import { BlobCollector } from './blob-collector.js';
import type { FollowerPosition } from './collectable.js';
import { takeBlobLease } from './leases.js';

const HOUR = 3_600_000;

async function setup(t: { after(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'wh-gc-'));
  const changelog = await Changelog.openInMemory();
  const files = new FileStore(join(dir, 'files'));
  t.after(async () => {
    await changelog.close();
    await rm(dir, { recursive: true, force: true });
  });
  /** stores content and backdates it past the grace period */
  const store = async (text: string): Promise<string> => {
    const { sha256 } = await files.putBytes(Buffer.from(text));
    const old = new Date(Date.now() - 2 * HOUR);
    await utimes(files.pathFor(sha256), old, old);
    return sha256;
  };
  const name = (sha256: string, filename: string) =>
    changelog.write((tx) => tx.set(`file/alice/dev/${sha256.slice(0, 3)}/${sha256.slice(3, 16)}/${filename}`, { sha256, size: 1, project: 'p', version: '1.0', rel: 'releasefile', modified: 0 }));
  return { changelog, files, store, name };
}

test('a run removes unnamed blobs past the grace period and reports files and bytes freed', async (t) => {
  const { changelog, files, store, name } = await setup(t);
  const kept = await store('named content');
  const garbage = await store('garbage content!');
  const young = (await files.putBytes(Buffer.from('just uploaded, not named yet'))).sha256;
  await name(kept, 'p-1.0.tar.gz');
  let freedMetric = 0;
  const gc = new BlobCollector({ state: changelog, files, followers: () => [], onFreed: (b) => (freedMetric += b) });
  const report = await gc.run();
  assert.equal(report.storedFiles, 3);
  assert.equal(report.freedFiles, 1);
  assert.equal(report.freedBytes, 'garbage content!'.length);
  assert.equal(freedMetric, report.freedBytes);
  assert.equal(await files.has(garbage), false);
  assert.equal(await files.has(kept), true);
  assert.equal(await files.has(young), true, 'a blob younger than the grace period may be an upload in flight');
  assert.deepEqual(gc.totals, { files: 1, bytes: 'garbage content!'.length, runs: 1 });
});

test('a follower behind the serial at which a blob was found unnamed keeps it until it catches up', async (t) => {
  const { changelog, files, store, name } = await setup(t);
  const sha = await store('dropped later');
  await name(sha, 'p-1.0.tar.gz');
  await changelog.write((tx) => tx.delete(`file/alice/dev/${sha.slice(0, 3)}/${sha.slice(3, 16)}/p-1.0.tar.gz`));
  const follower: FollowerPosition = { id: 'r1', serial: changelog.head - 1, lastSeen: Date.now() };
  const gc = new BlobCollector({ state: changelog, files, followers: () => [follower] });
  const held = await gc.run();
  assert.equal(held.held, 'followers-behind');
  assert.deepEqual(held.behind, ['r1']);
  assert.equal(held.freedFiles, 0);
  assert.equal(await files.has(sha), true);
  follower.serial = changelog.head;
  const swept = await gc.run();
  assert.equal(swept.freedFiles, 1);
  assert.equal(await files.has(sha), false);
});

test('a follower not seen within the expiry does not hold collection back', async (t) => {
  const { changelog, files, store } = await setup(t);
  const sha = await store('orphan');
  const gc = new BlobCollector({ state: changelog, files, followerExpiryMs: HOUR, followers: () => [{ id: 'old', serial: -1, lastSeen: Date.now() - 2 * HOUR }] });
  const report = await gc.run();
  assert.deepEqual(report.expired, ['old']);
  assert.equal(report.freedFiles, 1);
  assert.equal(await files.has(sha), false);
});

test('while an export holds a lease nothing is removed; after release the blob goes', async (t) => {
  const { changelog, files, store } = await setup(t);
  const sha = await store('exported right now');
  const lease = await takeBlobLease(files.root, 'test export');
  const gc = new BlobCollector({ state: changelog, files, followers: () => [] });
  assert.equal((await gc.run()).held, 'lease');
  assert.equal(await files.has(sha), true);
  await lease.release();
  assert.equal((await gc.run()).freedFiles, 1);
});

test('storing content again refreshes it: a re-upload of an unnamed blob is not collected under it', async (t) => {
  const { changelog, files, store } = await setup(t);
  const sha = await store('uploaded again');
  await files.putBytes(Buffer.from('uploaded again'));
  const report = await new BlobCollector({ state: changelog, files, followers: () => [] }).run();
  assert.equal(report.freedFiles, 0);
  assert.equal(await files.has(sha), true);
});

test('a blob named by a record committed during the sweep is put back, not removed', async (t) => {
  const { changelog, files, store, name } = await setup(t);
  const shas = [];
  for (let i = 0; i < 20; i++) shas.push(await store(`blob ${i}`));
  const late = shas[19]!;
  // the write is let in right after the mark (the state was read); batch yields let it commit mid-run
  let written: Promise<unknown> | undefined;
  const state = {
    get head() {
      return changelog.head;
    },
    entries: () => {
      const all = changelog.entries();
      written = new Promise((r) => setImmediate(r)).then(() => name(late, 'p-2.0.tar.gz'));
      return all;
    },
    onCommit: changelog.onCommit.bind(changelog),
  };
  const gc = new BlobCollector({ state, files, followers: () => [], batchSize: 1 });
  const report = await gc.run();
  await written;
  assert.equal(await files.has(late), true, 'named during the run');
  assert.equal(report.restored, 1);
  assert.equal(report.freedFiles, 19);
});
