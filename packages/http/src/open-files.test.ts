import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OpenFiles } from './open-files.js';
import { sendStoredBody, type StoredBody } from './file-response.js';
import { RecordingResponse, fakeRequest } from './test-response.js';

function dir(): { root: string; file: (name: string, text: string) => string; done: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'open-files-'));
  return {
    root,
    file: (name, text) => {
      writeFileSync(join(root, name), text);
      return join(root, name);
    },
    done: () => rmSync(root, { recursive: true, force: true }),
  };
}

const read = async (h: FileHandle): Promise<string> => {
  const b = Buffer.alloc(64);
  const { bytesRead } = await h.read(b, 0, 64, 0);
  return b.subarray(0, bytesRead).toString();
};

/** True once `h` is closed (its fd is -1). */
const closed = (h: FileHandle): boolean => h.fd === -1;

test('one handle per path, reused between uses; a missing file rejects with ENOENT and is not kept', async () => {
  const d = dir();
  try {
    const files = new OpenFiles();
    const a = d.file('a', 'AAA');
    let first: FileHandle | undefined;
    assert.equal(await files.use(a, async (h) => ((first = h), read(h))), 'AAA');
    assert.equal(await files.use(a, async (h) => (assert.equal(h, first), read(h))), 'AAA');
    assert.equal(files.size, 1);
    await assert.rejects(files.use(join(d.root, 'missing'), read), { code: 'ENOENT' });
    assert.equal(files.size, 1);
    files.close();
    await sleep(20);
    assert.ok(closed(first!));
  } finally {
    d.done();
  }
});

test('at most maxOpen handles: the least recently used is closed, but only once its request is done', async () => {
  const d = dir();
  try {
    const files = new OpenFiles({ maxOpen: 2 });
    const [a, b, c] = [d.file('a', 'A'), d.file('b', 'B'), d.file('c', 'C')];
    let release!: () => void;
    let held: FileHandle | undefined;
    const slow = files.use(a, async (h) => {
      held = h;
      await new Promise<void>((r) => (release = r));
      return read(h);
    });
    await sleep(20);
    await files.use(b, read);
    await files.use(c, read);
    assert.equal(files.size, 2, 'a left the pool');
    await sleep(20);
    assert.equal(closed(held!), false, 'still in use: open');
    release();
    assert.equal(await slow, 'A');
    await sleep(20);
    assert.ok(closed(held!), 'closed once its request was done');
    files.close();
  } finally {
    d.done();
  }
});

test('a file deleted since its handle was opened (blob GC) is never read again: ENOENT, or the new file at the path', async () => {
  const d = dir();
  try {
    const files = new OpenFiles();
    const a = d.file('a', 'old');
    let old: FileHandle | undefined;
    await files.use(a, async (h) => ((old = h), read(h)));
    unlinkSync(a);
    await assert.rejects(files.use(a, read), { code: 'ENOENT' });
    await sleep(20);
    assert.ok(closed(old!), 'the deleted file\'s handle was closed');
    d.file('a', 'new');
    assert.equal(await files.use(a, read), 'new');
    files.close();
  } finally {
    d.done();
  }
});

test('a handle unused for idleMs is closed', async () => {
  const d = dir();
  try {
    const files = new OpenFiles({ idleMs: 30 });
    let h: FileHandle | undefined;
    await files.use(d.file('a', 'A'), async (x) => ((h = x), read(x)));
    await sleep(150);
    assert.equal(files.size, 0);
    assert.ok(closed(h!));
  } finally {
    d.done();
  }
});

test('sendStoredBody from kept handles: whole body, a range, HEAD; a missing file goes to onMissing; a short file destroys the socket', async () => {
  const d = dir();
  try {
    const files = new OpenFiles();
    const path = d.file('blob', '0123456789');
    const stored = (size: number, p = path): StoredBody => ({ etag: '"e"', contentType: 'application/zip', caching: 'immutable', path: p, size });
    const send = async (method: string, headers: Record<string, string>, body: StoredBody): Promise<{ r: RecordingResponse; missing: boolean }> => {
      const r = new RecordingResponse();
      let missing = false;
      await sendStoredBody(fakeRequest(method, headers), r.res, ['X-Devpi-Serial', '1'], body, () => (missing = true), files);
      return { r, missing };
    };
    const whole = await send('GET', {}, stored(10));
    assert.equal(whole.r.statusCode, 200);
    assert.equal(whole.r.body, '0123456789');
    assert.equal(whole.r.getHeader('content-length'), '10');
    const ranged = await send('GET', { range: 'bytes=3-5' }, stored(10));
    assert.equal(ranged.r.statusCode, 206);
    assert.equal(ranged.r.body, '345');
    const head = await send('HEAD', {}, stored(10));
    assert.equal(head.r.body, '');
    assert.equal(head.r.getHeader('content-length'), '10');
    const gone = await send('GET', {}, stored(10, join(d.root, 'missing')));
    assert.equal(gone.missing, true);
    assert.equal(gone.r.headersSent, false, 'nothing sent before onMissing');
    const short = await send('GET', {}, stored(20));
    assert.equal(short.r.destroyed, true, 'recorded size larger than the file: the answer is cut, never completed');
    files.close();
  } finally {
    d.done();
  }
});

test('read buffers are reused only once the socket is done with them: concurrent large answers arrive intact', async () => {
  const { createServer } = await import('node:http');
  const { createHash, randomBytes } = await import('node:crypto');
  const d = dir();
  const files = new OpenFiles();
  const blobs = [randomBytes(12_000_000), randomBytes(5_300_000)];
  const paths = blobs.map((b, i) => {
    writeFileSync(join(d.root, `b${i}`), b);
    return join(d.root, `b${i}`);
  });
  const server = createServer((req, res) => {
    const i = Number(req.url!.slice(1));
    const stored: StoredBody = { etag: '"e"', contentType: 'application/zip', caching: 'immutable', path: paths[i]!, size: blobs[i]!.length };
    void sendStoredBody(req, res, [], stored, () => res.destroy(), files);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  try {
    const got = await Promise.all(
      Array.from({ length: 6 }, async (_, k) => {
        const i = k % 2;
        const res = await fetch(`http://127.0.0.1:${port}/${i}`);
        // read slowly now and then, so writes wait for drain and buffers are held by the socket
        const parts: Buffer[] = [];
        for await (const part of res.body!) {
          parts.push(Buffer.from(part));
          if (parts.length % 4 === 0) await sleep(2);
        }
        return { i, digest: sha(Buffer.concat(parts)) };
      }),
    );
    for (const { i, digest } of got) assert.equal(digest, sha(blobs[i]!));
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    files.close();
    d.done();
  }
});
