import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { pino } from 'pino';
import { request } from 'undici';
import { createProxy, type Proxy } from './proxy-server.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A fake node: answers `/+ready` 200, everything else with `handle`; records what it was sent. */
async function fakeNode(name: string, handle: Handler): Promise<{ url: string; server: Server; seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    if (req.url === '/+ready') return void res.end('{}');
    seen.push(req);
    res.setHeader('x-node', name);
    handle(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  return { url: `http://127.0.0.1:${addr.port}`, server, seen };
}

async function proxyIn(master: string, replicas: string[]): Promise<{ proxy: Proxy; url: string }> {
  const proxy = createProxy({ host: '127.0.0.1', port: 0, master, replicas, logger: pino({ level: 'silent' }), health: { intervalMs: 60_000 } });
  const port = await proxy.listen();
  return { proxy, url: `http://127.0.0.1:${port}` };
}

/** Sends raw bytes on one connection and collects what comes back until `done(text)` says so. */
function rawExchange(port: number, chunks: string[], done: (text: string) => boolean): Promise<{ text: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      text += d;
      if (done(text)) resolve({ text, socket });
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ text, socket }));
    for (const c of chunks) socket.write(c, 'latin1');
  });
}

const count = (text: string, what: string): number => text.split(what).length - 1;

test('a plain read goes through byte for byte with the forwarded headers; keep-alive connections are reused both ways', async () => {
  const replica = await fakeNode('replica1', (req, res) => {
    res.writeHead(200, 'Fine Today', { 'content-type': 'text/html', 'x-devpi-serial': '7', connection: 'keep-alive' });
    res.end(`<a>${req.url}</a>`);
  });
  const master = await fakeNode('master', (_req, res) => res.end('master'));
  const { proxy, url } = await proxyIn(master.url, [replica.url]);
  try {
    for (let i = 0; i < 3; i++) {
      const r = await request(`${url}/root/pypi/+simple/pip/?x=${i}`, { headers: { 'x-forwarded-for': '10.0.0.1', 'x-wheelhouse-epoch': '99' } });
      assert.equal(r.statusCode, 200);
      assert.equal(await r.body.text(), `<a>/root/pypi/+simple/pip/?x=${i}</a>`);
      assert.equal(r.headers['x-node'], 'replica1');
    }
    const sent = replica.seen.at(-1)!;
    assert.equal(sent.headers['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
    assert.equal(sent.headers['x-forwarded-proto'], 'http');
    assert.match(String(sent.headers.via), /^1\.1 wheelhouse-proxy-[0-9a-f]{8}$/);
    assert.equal(sent.headers['x-outside-url'], url);
    assert.equal(sent.headers['x-wheelhouse-epoch'], undefined, "a client's epoch is never passed on");
    // one backend connection served all three reads
    assert.equal(new Set(replica.seen.map((r) => r.socket)).size, 1);
    assert.equal(proxy.pool.byName('replica1')!.serial, 7, 'the serial an answer carries is noted');
    assert.equal(proxy.pool.byName('replica1')!.outstanding, 0);
    // the reason phrase is the node's own
    const { text } = await rawExchange(Number(new URL(url).port), ['GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'], () => false);
    assert.match(text, /^HTTP\/1\.1 200 Fine Today\r\n/);
    assert.doesNotMatch(text, /keep-alive/i, "the node's keep-alive is not relayed to a client that asked to close");
    assert.match(text, /\r\nconnection: close\r\n[\s\S]*<a>\/x<\/a>/, 'the answer says the connection closes, and it does');
  } finally {
    await proxy.close();
    replica.server.close();
    master.server.close();
  }
});

test('pipelined reads are answered in order; chunked, HEAD and 304 answers end where they should', async () => {
  const replica = await fakeNode('replica1', (req, res) => {
    if (req.url === '/chunked') {
      res.write('part one;');
      setTimeout(() => res.end('part two'), 5);
    } else if (req.url === '/304') {
      res.writeHead(304, { etag: '"e"' });
      res.end();
    } else res.end(`body of ${req.url}`);
  });
  const master = await fakeNode('master', (_req, res) => res.end('master'));
  const { proxy, url } = await proxyIn(master.url, [replica.url]);
  try {
    const port = Number(new URL(url).port);
    const { text } = await rawExchange(
      port,
      ['GET /chunked HTTP/1.1\r\nHost: h\r\n\r\nHEAD /head HTTP/1.1\r\nHost: h\r\n\r\nGET /304 HTTP/1.1\r\nHost: h\r\n\r\nGET /last HTTP/1.1\r\nHost: h\r\n\r\n'],
      (t) => t.includes('body of /last'),
    );
    assert.equal(count(text, 'HTTP/1.1 '), 4);
    assert.ok(text.indexOf('0\r\n\r\n') < text.indexOf('HTTP/1.1 200', 10), 'the chunked answer ends before the next one starts');
    assert.match(text, /transfer-encoding: chunked\r\n[\s\S]*9\r\npart one;\r\n8\r\npart two\r\n0\r\n\r\nHTTP/i);
    assert.match(text, /HTTP\/1\.1 304 Not Modified/);
    assert.equal(count(text, 'body of /head'), 0, 'a HEAD answer has no body');
    assert.deepEqual(replica.seen.map((r) => `${r.method} ${r.url}`), ['GET /chunked', 'HEAD /head', 'GET /304', 'GET /last']);
  } finally {
    await proxy.close();
    replica.server.close();
    master.server.close();
  }
});

test('a write on a fast-path connection hands it to the HTTP server, which forwards it to the master; the connection keeps working', async () => {
  const replica = await fakeNode('replica1', (req, res) => res.end(`read ${req.url}`));
  const master = await fakeNode('master', (req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', () => {
      res.setHeader('x-devpi-serial', '12');
      res.end(`wrote ${body}`);
    });
  });
  const { proxy, url } = await proxyIn(master.url, [replica.url]);
  try {
    const port = Number(new URL(url).port);
    const { text, socket } = await rawExchange(
      port,
      ['GET /a HTTP/1.1\r\nHost: h\r\n\r\n', 'POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello', 'GET /b HTTP/1.1\r\nHost: h\r\n\r\n'],
      (t) => t.includes('read /b') || t.includes('wrote hello') && count(t, 'HTTP/1.1 ') === 3,
    );
    socket.destroy();
    assert.match(text, /read \/a/);
    assert.match(text, /wrote hello/);
    assert.equal(master.seen[0]!.method, 'POST');
    assert.equal(proxy.writeSerial, 12);
    assert.equal(count(text, 'HTTP/1.1 200'), 3);
    const status = await request(`${url}/+status`, { headers: { accept: 'application/json' } });
    assert.equal(status.statusCode, 200, 'admin paths are answered by the proxy itself');
    await status.body.json();
    const metrics = await (await request(`${url}/+metrics`)).body.text();
    assert.match(metrics, /^wheelhouse_proxy_handovers_total 3$/m, 'the write, the status and the metrics connection went to the HTTP server');
    // GET /b was sent before the write's answer came back (no read-your-writes owed): the replica served it too
    assert.match(metrics, /^wheelhouse_proxy_requests_total\{backend="replica1",kind="read",status="2xx"\} 2$/m);
    assert.match(metrics, /^wheelhouse_proxy_requests_total\{backend="master",kind="write",status="2xx"\} 1$/m);
  } finally {
    await proxy.close();
    replica.server.close();
    master.server.close();
  }
});

test('a read whose backend answers 503 or refuses the connection is retried on another backend through the router', async () => {
  const replica = await fakeNode('replica1', (_req, res) => {
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end('{"message":"not yet"}');
  });
  const master = await fakeNode('master', (req, res) => res.end(`master read ${req.url}`));
  const { proxy, url } = await proxyIn(master.url, [replica.url, 'http://127.0.0.1:1']);
  try {
    // replica2 (port 1) refuses; replica1 answers 503; the master serves
    for (let i = 0; i < 4; i++) {
      const r = await request(`${url}/p${i}`);
      assert.equal(r.statusCode, 200);
      assert.equal(await r.body.text(), `master read /p${i}`);
    }
    assert.equal(proxy.pool.byName('replica2')!.up, false, 'a refused connection takes the backend out at once');
    for (const b of proxy.pool.backends) assert.equal(b.outstanding, 0, `${b.name} has nothing in flight`);
  } finally {
    await proxy.close();
    replica.server.close();
    master.server.close();
  }
});

test('a backend that closes a kept-alive connection is not held against it: the read goes out again on a fresh one', async () => {
  let n = 0;
  const replica = await fakeNode('replica1', (req, res) => {
    n++;
    res.end(`answer ${n}`);
  });
  replica.server.keepAliveTimeout = 50;
  const master = await fakeNode('master', (_req, res) => res.end('master'));
  const { proxy, url } = await proxyIn(master.url, [replica.url]);
  try {
    assert.equal(await (await request(`${url}/one`)).body.text(), 'answer 1');
    await new Promise((r) => setTimeout(r, 150)); // the node closed its idle side meanwhile
    const r = await request(`${url}/two`);
    assert.equal(await r.body.text(), 'answer 2');
    assert.equal(r.headers['x-node'], 'replica1');
    assert.equal(proxy.pool.byName('replica1')!.requestFails, 0);
  } finally {
    await proxy.close();
    replica.server.close();
    master.server.close();
  }
});

test('requests outside the plain form are left to Node: a loop gets 508, a bad or oversized head 400', async () => {
  const replica = await fakeNode('replica1', (_req, res) => res.end('read'));
  const master = await fakeNode('master', (_req, res) => res.end('master'));
  const { proxy, url } = await proxyIn(master.url, [replica.url]);
  try {
    const port = Number(new URL(url).port);
    await (await request(`${url}/first`)).body.text();
    const token = String(replica.seen[0]!.headers.via).replace(/^1\.1 /, '');
    const loop = await rawExchange(port, [`GET /x HTTP/1.1\r\nHost: h\r\nVia: 1.1 other, 1.1 ${token}\r\n\r\n`], (t) => t.includes('}'));
    assert.match(loop.text, /^HTTP\/1\.1 508/);
    loop.socket.destroy();
    const bad = await rawExchange(port, ['GET /x HTTP/1.1\r\nHost: h\r\nBad Header: x\r\n\r\n'], (t) => t.includes('\r\n\r\n'));
    assert.match(bad.text, /^HTTP\/1\.1 400/);
    const huge = await rawExchange(port, [`GET /x HTTP/1.1\r\nHost: h\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`], (t) => t.includes('\r\n\r\n'));
    assert.match(huge.text, /^HTTP\/1\.1 400 [\s\S]*HPE_HEADER_OVERFLOW/, "Node's parser judges an oversized head");
    const split = await rawExchange(port, ['GET /x HTT', 'P/1.1\r\nHo', 'st: h\r\n\r\n'], (t) => t.includes('read'));
    assert.match(split.text, /^HTTP\/1\.1 200/, 'a head in several pieces is read whole');
    split.socket.destroy();
  } finally {
    await proxy.close();
    replica.server.close();
    master.server.close();
  }
});

const noises = new Map<string, Buffer>();
/** `bytes` of deterministic noise for `seed` (a body no shifted or overwritten copy can pass for); made once. */
function noise(seed: number, bytes: number): Buffer {
  const key = `${seed}/${bytes}`;
  let out = noises.get(key);
  if (!out) noises.set(key, (out = makeNoise(seed, bytes)));
  return out;
}

function makeNoise(seed: number, bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let x = seed * 2654435761 >>> 0 || 1;
  for (let i = 0; i < bytes; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeUInt32LE(x >>> 0, i);
  }
  return out;
}

/** GETs `path` on one raw connection, stopping to read for `pauseMs` after its first bytes (a slow client); the body after the head. */
function rawBody(port: number, path: string, pauseMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    socket.on('data', (d: Buffer) => {
      parts.push(d);
      if (pauseMs > 0 && parts.length === 1) {
        socket.pause();
        setTimeout(() => socket.resume(), pauseMs);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const all = Buffer.concat(parts);
      resolve(all.subarray(all.indexOf('\r\n\r\n') + 4));
    });
    socket.write(`GET ${path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`);
  });
}

test('large answers to slow and fast clients at once arrive intact: a read buffer a client still holds is never read into again', async () => {
  // more than the loopback's socket buffers hold, so that a slow client's bytes queue in the proxy
  const SIZE = 24 * 1024 * 1024;
  const replica = await fakeNode('replica1', (req, res) => {
    const body = noise(Number(new URL(req.url!, 'http://x').searchParams.get('seed')), SIZE);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(SIZE) });
    res.end(body);
  });
  const master = await fakeNode('master', (_req, res) => res.end('master'));
  const { proxy, url } = await proxyIn(master.url, [replica.url]);
  const port = Number(new URL(url).port);
  try {
    const seeds = [1, 2, 3, 4];
    const bodies = await Promise.all(seeds.map((seed) => rawBody(port, `/root/pypi/+f/a/b/w.whl?seed=${seed}`, seed % 2 ? 400 : 0)));
    for (const [i, seed] of seeds.entries()) {
      assert.equal(bodies[i]!.length, SIZE, `seed ${seed}: length`);
      assert.ok(bodies[i]!.equals(noise(seed, SIZE)), `seed ${seed} (${seed % 2 ? 'slow' : 'fast'} client): the bytes differ from what the node sent`);
    }
    // the backend connections were kept and reused for a second round
    const again = await rawBody(port, '/root/pypi/+f/a/b/w.whl?seed=9', 400);
    assert.ok(again.equals(noise(9, SIZE)));
  } finally {
    await proxy.close();
    replica.server.close();
    master.server.close();
  }
});
