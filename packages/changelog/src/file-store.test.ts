import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { IntegrityError, TooLargeError } from './errors.js';
import { FileStore } from './file-store.js';
import { makeTempDir } from './test-stores.js';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function* chunks(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** Every file under dir, relative paths. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

describe('FileStore', () => {
  const content = Buffer.from('wheel contents '.repeat(1000));
  const hex = sha256(content);

  it('puts content under sha256/ab/cd/<hex> and reads it back', async () => {
    const root = await makeTempDir();
    const files = new FileStore(root);
    assert.deepEqual(await files.put(chunks(content, 1000), { expectedSha256: hex, expectedSize: content.length }), { sha256: hex, size: content.length });
    assert.equal(files.pathFor(hex), join(root, 'sha256', hex.slice(0, 2), hex.slice(2, 4), hex));
    assert.ok(await files.has(hex));
    assert.equal((await files.stat(hex))?.size, content.length);
    assert.deepEqual(Buffer.from(await files.readBytes(hex)), content);
    assert.deepEqual(await listFiles(root), [join('sha256', hex.slice(0, 2), hex.slice(2, 4), hex)]);
    await files.delete(hex);
    assert.equal(await files.has(hex), false);
    assert.equal(await files.stat(hex), undefined);
    await rm(root, { recursive: true, force: true });
  });

  it('a wrong sha256 or size throws IntegrityError and leaves no file and no temp', async () => {
    const root = await makeTempDir();
    const files = new FileStore(root);
    const wrong = sha256(Buffer.from('other'));
    await assert.rejects(files.put(chunks(content, 100), { expectedSha256: wrong }), (err: unknown) => {
      assert.ok(err instanceof IntegrityError);
      assert.equal(err.code, 'EINTEGRITY');
      assert.equal(err.expected, wrong);
      assert.equal(err.actual, hex);
      return true;
    });
    await assert.rejects(files.put(chunks(content, 100), { expectedSize: 3 }), IntegrityError);
    await assert.rejects(files.putBytes(content, { expectedSha256: wrong }), IntegrityError);
    assert.equal(await files.has(hex), false);
    assert.deepEqual(await listFiles(root), []);
    await rm(root, { recursive: true, force: true });
  });

  it('stops at maxBytes while streaming with TooLargeError and leaves nothing behind', async () => {
    const root = await makeTempDir();
    const files = new FileStore(root);
    let chunksRead = 0;
    async function* endless(): AsyncIterable<Uint8Array> {
      for (;;) {
        chunksRead++;
        yield new Uint8Array(1024);
      }
    }
    await assert.rejects(files.put(endless(), { maxBytes: 10 * 1024 }), (err: unknown) => err instanceof TooLargeError && err.code === 'ETOOLARGE');
    assert.equal(chunksRead, 11);
    assert.deepEqual(await listFiles(root), []);
    assert.deepEqual(await files.put(chunks(content, 4096), { maxBytes: content.length }), { sha256: hex, size: content.length });
    await rm(root, { recursive: true, force: true });
  });

  it('concurrent puts of identical content all succeed and leave one file', async () => {
    const root = await makeTempDir();
    const files = new FileStore(root);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? files.putBytes(content) : files.put(chunks(content, 333)))));
    for (const result of results) assert.deepEqual(result, { sha256: hex, size: content.length });
    assert.deepEqual(await listFiles(root), [join('sha256', hex.slice(0, 2), hex.slice(2, 4), hex)]);
    await rm(root, { recursive: true, force: true });
  });

  it('a failing source leaves nothing; cleanTemp removes temp files left by a crash', async () => {
    const root = await makeTempDir();
    const files = new FileStore(root);
    async function* failing(): AsyncIterable<Uint8Array> {
      yield new Uint8Array(10);
      throw new Error('connection reset');
    }
    await assert.rejects(files.put(failing()), /connection reset/);
    assert.deepEqual(await listFiles(root), []);
    await mkdir(join(root, 'tmp'), { recursive: true });
    await writeFile(join(root, 'tmp', 'leftover.tmp'), 'partial');
    await files.cleanTemp();
    assert.deepEqual(await listFiles(root), []);
    await rm(root, { recursive: true, force: true });
  });
});
