import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { Agent, request as httpRequest } from 'node:http';
import { createNodeServer, httpUrl, reachableHost } from './node-server.js';
import { readNodeFile } from './node-file.js';
import { sendStoredBody } from './file-response.js';

test('URL building: wildcard addresses become 127.0.0.1, IPv6 gets brackets', () => {
  assert.equal(reachableHost('0.0.0.0'), '127.0.0.1');
  assert.equal(reachableHost('::'), '127.0.0.1');
  assert.equal(reachableHost('10.1.2.3'), '10.1.2.3');
  assert.equal(httpUrl('::1', 80), 'http://[::1]:80');
  assert.equal(httpUrl('localhost', 3141), 'http://localhost:3141');
});

test('listen resolves the bound port and URL and writes the node file; close removes it and ends keep-alive connections', async () => {
  const datadir = await mkdtemp(join(tmpdir(), 'wh-http-'));
  try {
    const node = createNodeServer({ host: '127.0.0.1', port: 0, nodeFile: { datadir, role: 'replica' }, handler: (_req, res) => res.end('hi') });
    assert.equal(node.server.keepAliveTimeout, 65_000);
    const { port, url } = await node.listen();
    assert.ok(port > 0);
    assert.equal(url, `http://127.0.0.1:${port}`);
    assert.deepEqual(await readNodeFile(datadir), { role: 'replica', url, pid: process.pid });
    const res = await fetch(url, { headers: { connection: 'keep-alive' } });
    assert.equal(await res.text(), 'hi');
    const started = Date.now();
    await node.close();
    assert.ok(Date.now() - started < 5_000, 'an idle keep-alive connection does not hold close() up');
    assert.equal(await readNodeFile(datadir), undefined);
  } finally {
    await rm(datadir, { recursive: true, force: true });
  }
});

test('listen rejects with the listen error (port in use)', async () => {
  const a = createNodeServer({ host: '127.0.0.1', port: 0, handler: (_req, res) => res.end() });
  const { port } = await a.listen();
  const b = createNodeServer({ host: '127.0.0.1', port, handler: (_req, res) => res.end() });
  await assert.rejects(b.listen(), /EADDRINUSE/);
  await a.close();
});

test('the PUSH method reaches the handler as POST', async () => {
  const node = createNodeServer({ host: '127.0.0.1', port: 0, handler: (req, res) => res.end(`${req.method} ${req.url}`) });
  const { port } = await node.listen();
  const answer = await new Promise<string>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write('PUSH /u/i HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'));
    let got = '';
    s.on('data', (c) => (got += String(c)));
    s.on('end', () => resolve(got));
    s.on('error', reject);
  });
  assert.match(answer, /^HTTP\/1\.1 200/);
  assert.match(answer, /POST \/u\/i$/);
  await node.close();
});

test('sendStoredBody streams a range from disk, and calls onMissing when the file is not there', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wh-http-'));
  await writeFile(join(dir, 'f'), '0123456789');
  const node = createNodeServer({
    host: '127.0.0.1',
    port: 0,
    handler: (req, res) => {
      const path = join(dir, req.url === '/missing' ? 'nope' : 'f');
      void sendStoredBody(req, res, [], { path, size: 10, etag: '"e"', contentType: 'application/zip', caching: 'immutable' }, () => {
        res.statusCode = 404;
        res.end('missing');
      });
    },
  });
  try {
    const { url } = await node.listen();
    const part = await fetch(`${url}/f`, { headers: { range: 'bytes=3-5' } });
    assert.equal(part.status, 206);
    assert.equal(await part.text(), '345');
    const missing = await fetch(`${url}/missing`);
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), 'missing');
  } finally {
    await node.close();
    await rm(dir, { recursive: true, force: true });
  }
});

/** Sends `chunks` with `pauseMs` between them to `url` (POST, Content-Length set); resolves to status and body. */
function trickle(url: string, chunks: string[], pauseMs: number[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const length = chunks.reduce((n, c) => n + Buffer.byteLength(c), 0);
    const req = httpRequest(url, { method: 'POST', headers: { 'content-length': String(length) } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', (err) => resolve({ status: -1, body: err.message }));
    void (async () => {
      for (const [i, c] of chunks.entries()) {
        if (req.destroyed) return;
        req.write(c);
        await new Promise((r) => setTimeout(r, pauseMs[i] ?? 0));
      }
      req.end();
    })();
  });
}

/** A node server whose handler reads the body, waits `commitMs` ("commits"), then answers 200 with the byte count. */
async function uploadServer(requestIdleMs: number, commitMs = 0) {
  let committed = 0;
  const node = createNodeServer({
    host: '127.0.0.1',
    port: 0,
    requestIdleMs,
    handler: (req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => {
        setTimeout(() => {
          committed++;
          if (!res.headersSent) res.writeHead(200).end(String(n));
        }, commitMs);
      });
    },
  });
  const { url } = await node.listen();
  return { node, url, committed: () => committed };
}

test('timeouts are set deliberately: no total request time limit, 60 s for headers', async () => {
  const node = createNodeServer({ host: '127.0.0.1', port: 0, handler: (_req, res) => res.end() });
  assert.equal(node.server.requestTimeout, 0);
  assert.equal(node.server.headersTimeout, 60_000);
});

// issue 11: Node's 300 s requestTimeout cut uploads slower than ~3.6 MB/s for 1 GiB; the limit is
// now inactivity (here shortened to 400 ms): a body trickled for 6 idle periods with pauses under
// the limit is committed and answered 200
test('a slow upload whose pauses stay under the idle limit is committed and answered 200, whatever its total time', async () => {
  const s = await uploadServer(400);
  try {
    const chunks = Array.from({ length: 12 }, () => 'x'.repeat(1000));
    const t0 = Date.now();
    const res = await trickle(`${s.url}/root/dev/`, chunks, chunks.map(() => 200));
    assert.deepEqual(res, { status: 200, body: '12000' });
    assert.ok(Date.now() - t0 > 2_000, 'took longer than five idle periods');
    assert.equal(s.committed(), 1);
  } finally {
    await s.node.close();
  }
});

test('a body that pauses longer than the idle limit is answered 408 with a JSON message and the connection closed', async () => {
  const s = await uploadServer(300);
  try {
    const res = await trickle(`${s.url}/root/dev/`, ['abc', 'def'], [1_500]);
    assert.equal(res.status, 408);
    assert.match(JSON.parse(res.body).message, /no byte of the request body arrived for 300 ms/);
    assert.equal(s.committed(), 0);
  } finally {
    await s.node.close();
  }
});

// issue 11: a client that sent the whole body was told 400 although the upload was committed — a
// timeout must never fire once the whole body arrived, however long the commit takes
test('once the whole body arrived, a commit slower than the idle limit still gets its 200', async () => {
  const s = await uploadServer(200, 1_000);
  try {
    const res = await trickle(`${s.url}/root/dev/`, ['abc'], [0]);
    assert.deepEqual(res, { status: 200, body: '3' });
    assert.equal(s.committed(), 1);
  } finally {
    await s.node.close();
  }
});

test('keep-alive: an idle connection between requests is not cut by the body idle limit', async () => {
  const s = await uploadServer(200);
  try {
    const agent = new Agent({ keepAlive: true });
    const post = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = httpRequest(`${s.url}/x`, { method: 'POST', agent, headers: { 'content-length': '2' } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end('ab');
      });
    assert.equal(await post(), 200);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(await post(), 200);
    agent.destroy();
  } finally {
    await s.node.close();
  }
});
