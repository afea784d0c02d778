import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobCache } from './blob-cache.js';

function files(n: number, size: number): { dir: string; path: (i: number) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'blob-cache-'));
  for (let i = 0; i < n; i++) writeFileSync(join(dir, String(i)), Buffer.alloc(size, i));
  return { dir, path: (i) => join(dir, String(i)) };
}

test('within its byte budget; a file read since eviction last passed it gets a second chance, a file just loaded is not next out', async () => {
  const f = files(6, 100);
  try {
    const cache = new BlobCache({ maxFileBytes: 100, maxTotalBytes: 300 });
    for (const i of [0, 1, 2]) await cache.load(String(i), f.path(i));
    assert.equal(cache.bytes, 300);
    // all three are fresh (marked): eviction goes round once unmarking them, then drops the oldest
    await cache.load('3', f.path(3));
    assert.equal(cache.bytes, 300);
    assert.equal(cache.get('0'), undefined);
    assert.equal(cache.get('1')?.[0], 1, 'a hit returns the bytes');
    // 1 was read since: it goes to the back; 2 (not read) is the one out
    await cache.load('4', f.path(4));
    assert.equal(cache.bytes, 300);
    assert.equal(cache.get('2'), undefined);
    assert.ok(cache.get('1') && cache.get('3') && cache.get('4'));
    await cache.load('5', f.path(5));
    assert.ok(cache.get('5'), 'the file just loaded stays even when every other one was read');
    assert.equal(cache.bytes, 300);
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});

test('a file larger than maxFileBytes is read but not kept; a missing one rejects', async () => {
  const f = files(1, 200);
  try {
    const cache = new BlobCache({ maxFileBytes: 100, maxTotalBytes: 300 });
    assert.equal((await cache.load('0', f.path(0))).length, 200);
    assert.equal(cache.get('0'), undefined);
    assert.equal(cache.bytes, 0);
    await assert.rejects(cache.load('x', join(f.dir, 'missing')), { code: 'ENOENT' });
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});
