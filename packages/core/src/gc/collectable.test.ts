import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectableBlobs, followersReached, type StoredBlob } from './collectable.js';

const sha = (c: string): string => c.repeat(64);
const blob = (c: string, mtimeMs: number, size = 10): StoredBlob => ({ sha256: sha(c), size, mtimeMs });
const HOUR = 3_600_000;

test('a blob is collectable only when unnamed, unpinned and older than the grace period', () => {
  const now = 10 * HOUR;
  const stored = [blob('a', 0), blob('b', 0), blob('c', now - HOUR / 2), blob('d', 0)];
  const out = collectableBlobs(stored, new Set([sha('a')]), now, HOUR, new Set([sha('d')]));
  // a: named; c: younger than the grace (may be an upload in flight); d: pinned
  assert.deepEqual(out.map((b) => b.sha256), [sha('b')]);
});

test('the grace period is measured from the last store: a blob stored again just now is kept', () => {
  const now = 10 * HOUR;
  assert.equal(collectableBlobs([blob('a', now - 1)], new Set(), now, HOUR).length, 0);
  assert.equal(collectableBlobs([blob('a', now - HOUR)], new Set(), now, HOUR).length, 1);
});

test('followers below the serial hold collection back; followers not seen within the expiry do not', () => {
  const now = 100 * HOUR;
  const followers = [
    { id: 'r1', serial: 50, lastSeen: now },
    { id: 'r2', serial: 40, lastSeen: now - HOUR },
    { id: 'gone', serial: 3, lastSeen: now - 48 * HOUR },
  ];
  assert.deepEqual(followersReached(followers, 40, now, 24 * HOUR), { reached: true, behind: [], expired: ['gone'] });
  assert.deepEqual(followersReached(followers, 45, now, 24 * HOUR), { reached: false, behind: ['r2'], expired: ['gone'] });
  assert.equal(followersReached([], 1_000, now, 24 * HOUR).reached, true);
});
