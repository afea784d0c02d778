import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Changelog, FileStore } from '@wheelhouse/changelog';
import { attachFile } from '@wheelhouse/core';
import { DEFAULT_BLOB_RETRY, blobRetryDelayMs } from './blob-retry.js';
import { FakeMaster } from './fake-master.test-helpers.js';
import { FileReplicator } from './file-replicator.js';
import { Tailer } from './tailer.js';
import { silent, waitFor, writeHistory } from './test-support.test-helpers.js';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('blob retry policy', () => {
  it('doubles from the first delay and stops at the cap (1 s … 60 s by default)', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => blobRetryDelayMs(n, DEFAULT_BLOB_RETRY));
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    assert.deepEqual([1, 2, 3, 4].map((n) => blobRetryDelayMs(n, { firstMs: 10, maxMs: 25 })), [10, 20, 25, 25]);
  });
});

describe('file replication against an in-memory master', () => {
  let dir: string;
  let master: Changelog;
  let replica: Changelog;
  let files: FileStore;
  let fake: FakeMaster;
  const closers: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wheelhouse-replication-'));
    master = await Changelog.openInMemory();
    replica = await Changelog.openInMemory();
    files = new FileStore(join(dir, 'files'));
    fake = new FakeMaster(master);
    await writeHistory(master, 2);
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await replica.close();
    await master.close();
    await rm(dir, { recursive: true, force: true });
  });

  const replicate = (retryMs: number, maxRetryMs: number): { tailer: Tailer; replicator: FileReplicator } => {
    const replicator = new FileReplicator({ changelog: replica, files, master: fake, log: silent, retryMs, maxRetryMs });
    const tailer = new Tailer({ changelog: replica, master: fake, log: silent });
    // as a replica generation wires them: the replicator hears each record from the commit path
    replica.onCommit((record) => replicator.onRecord(record));
    closers.push(() => replicator.close(), () => tailer.stop());
    tailer.start();
    return { tailer, replicator };
  };

  /** Commits a release of `project` with one file whose blob is `bytes`; returns the blob's sha256. */
  const release = async (project: string, bytes: Uint8Array): Promise<string> => {
    const sha = sha256(bytes);
    await master.write((tx) => {
      attachFile(tx, 'alice/dev', { name: project, version: '1.0' }, { filename: `${project}-1.0.tar.gz`, sha256: sha, size: bytes.length }, 'releasefile', 'alice');
    });
    return sha;
  };

  it('back-off of a failing blob grows exponentially up to the cap', async () => {
    const bytes = Buffer.from('never served');
    const lost = await release('lost', bytes);
    const { replicator } = replicate(10, 40);
    await waitFor(() => fake.blobRequests.filter((r) => r.sha256 === lost).length >= 6, 'six attempts');
    await replicator.close();
    const times = fake.blobRequests.filter((r) => r.sha256 === lost).map((r) => r.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // timers never fire early (1 ms of rounding allowed); later is fine on a loaded machine
    [10, 20, 40, 40, 40].forEach((least, i) => assert.ok(gaps[i]! >= least - 1, `gap ${i + 1} was ${gaps[i]} ms, at least ${least} ms expected`));
    const [failed] = replicator.stats().failed;
    assert.equal(failed?.sha256, lost);
    assert.equal(failed?.attempts, times.length);
    assert.match(failed?.error ?? '', /master answered 404/);
    // the last failure scheduled its retry at the cap, not at 10 · 2^5 ms
    const scheduledIn = failed!.retryAt - times[times.length - 1]!;
    assert.ok(scheduledIn >= 40 && scheduledIn < 40 + 50, `next retry scheduled ${scheduledIn} ms after the last attempt`);
  });

  // devpi #489/#858/#1107: one bad file stalled a replica; here it fails alone
  it('a bad blob (wrong sha256, or missing on the master) fails alone while later blobs and serials replicate', async () => {
    const good = Buffer.from('good release file');
    const corrupt = Buffer.from('what the release record promises');
    const missing = Buffer.from('the master lost this one');
    const shaGood = await release('good', good);
    const shaCorrupt = await release('corrupt', corrupt);
    const shaMissing = await release('missing', missing);
    fake.serveBlob(shaGood, good);
    fake.serveBlob(shaCorrupt, Buffer.from('other bytes under that name'));
    const { replicator } = replicate(20, 1_000);
    // the good blob may still be in flight when both bad ones have failed: wait for all three
    await waitFor(async () => replicator.stats().failed.length === 2 && (await files.has(shaGood)), 'both bad blobs failed, the good one stored');
    const failed = new Map(replicator.stats().failed.map((f) => [f.sha256, f.error]));
    assert.match(failed.get(shaCorrupt) ?? '', /sha256 mismatch/);
    assert.match(failed.get(shaMissing) ?? '', /404/);
    assert.equal(await files.has(shaCorrupt), false, 'corrupt content is never stored');

    const later = Buffer.from('a release after the bad ones');
    fake.serveBlob(sha256(later), later);
    const shaLater = await release('later', later);
    await waitFor(async () => replica.head === master.head && (await files.has(shaLater)), 'the later serial and its blob');
    assert.equal(await replica.stateDigest(), await master.stateDigest());
    assert.deepEqual(new Set(replicator.stats().failed.map((f) => f.sha256)), new Set([shaCorrupt, shaMissing]));

    // once the master has the right bytes, the retry succeeds and the failure clears
    fake.serveBlob(shaCorrupt, corrupt);
    fake.serveBlob(shaMissing, missing);
    await waitFor(() => replicator.stats().failed.length === 0 && replicator.stats().queued === 0, 'retries succeed');
    assert.ok((await files.has(shaCorrupt)) && (await files.has(shaMissing)));
  });
});
