import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
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
