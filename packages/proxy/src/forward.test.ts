// The forwarder against real loopback backends: a real undici exchange is the thing under test.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { pino } from 'pino';
import { Backend, BackendPool } from './backends.js';
import { createForwarder, type ForwardOutcome } from './forward.js';
import { DEFAULT_HEALTH_POLICY } from './policy.js';
import { createProxyMetrics } from './proxy-metrics.js';

const servers: Server[] = [];
const agent = new Agent({ connect: { timeout: 2_000 } });
after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  await agent.close();
});

async function listen(handler: RequestListener): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

/** A front server that forwards every request to `backend` as attempt `attempt` and records the outcome. */
async function front(backend: Backend, pool: BackendPool, attempt = 0, writeStallMs?: number) {
  const outcomes: ForwardOutcome[] = [];
  const forward = createForwarder({
    pool, dispatcher: agent, metrics: createProxyMetrics(pool.backends), log: pino({ level: 'silent' }), viaToken: 'wheelhouse-proxy-t', outsideUrl: undefined, listenAddress: '127.0.0.1:0',
    ...(writeStallMs ? { writeStallMs } : {}),
  });
  const url = await listen((req: IncomingMessage, res: ServerResponse) => {
    void forward(backend, req, res, attempt).then((o) => {
      outcomes.push(o);
      if (o !== 'done') res.writeHead(299, { 'x-outcome': o }).end();
    });
  });
  return { url, outcomes };
}

/** A request with node's own client (undici refuses to send hop-by-hop headers). */
function rawRequest(url: string, method: string, body = '', headers: Record<string, string> = {}): Promise<{ statusCode: number; statusMessage: string; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function poolOf(masterUrl: string, replicaUrl = 'http://127.0.0.1:9'): { pool: BackendPool; master: Backend; replica: Backend } {
  const master = new Backend('master', masterUrl, 'master');
  const replica = new Backend('replica1', replicaUrl, 'replica');
  return { pool: new BackendPool([master, replica], DEFAULT_HEALTH_POLICY), master, replica };
}

test('an answer streams back without hop-by-hop headers; the backend sees Via and X-Forwarded-For; a write answer raises the write mark', async () => {
  let seen: IncomingMessage['headers'] = {};
  let body = '';
  const backend = await listen((req, res) => {
    seen = req.headers;
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => res.writeHead(200, { 'x-devpi-serial': '7', 'x-devpi-master-uuid': 'u', 'keep-alive': 'timeout=1', 'content-type': 'text/plain' }).end('x'.repeat(100_000)));
  });
  const { pool, master } = poolOf(backend);
  const f = await front(master, pool);
  const res = await rawRequest(`${f.url}/root/dev/`, 'POST', 'upload', { connection: 'keep-alive', 'keep-alive': 'timeout=9', te: 'trailers', 'content-length': '6' });
  assert.equal(res.statusCode, 200);
  assert.equal(res.body.length, 100_000);
  assert.equal(res.headers['x-devpi-serial'], '7');
  assert.equal(res.headers['keep-alive'], 'timeout=5', "the backend's keep-alive is not passed on (this is node's own)");
  assert.equal(body, 'upload');
  assert.equal(seen['te'], undefined);
  assert.match(String(seen['via']), /1\.1 wheelhouse-proxy-t$/);
  assert.equal(seen['x-forwarded-for'], '127.0.0.1');
  assert.deepEqual(pool.writeMark, { serial: 7, masterUuid: 'u' });
  assert.deepEqual(f.outcomes, ['done']);
});

test('a read answered 503 sends nothing to the client and is retryable; on the last attempt the node\'s 503 goes to the client unchanged; neither counts against it', async () => {
  const text = JSON.stringify({ message: 'the project list page is not on this node yet' });
  const backend = await listen((_req, res) => res.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text));
  const { pool, replica } = poolOf('http://127.0.0.1:9', backend);
  const f = await front(replica, pool);
  const res = await request(`${f.url}/x`, { dispatcher: agent });
  await res.body.dump();
  assert.equal(res.statusCode, 299);
  assert.equal(res.headers['x-outcome'], 'retry');
  assert.equal(replica.requestFails, 0);
  const last = await front(replica, pool, 1);
  const res2 = await rawRequest(`${last.url}/x`, 'GET');
  assert.equal(res2.statusCode, 503);
  assert.equal(res2.body, text);
  assert.deepEqual(last.outcomes, ['done']);
});

// issue 11: a replica's deliberate 502 for a failing mirror upstream ejected it, and the client got
// the proxy's "no backend can serve this read now" instead of the node's message
test("a node's 502 for a failing mirror upstream reaches the client unchanged and never counts against it", async () => {
  const text = JSON.stringify({ message: 'upstream https://pypi.example/simple/ is failing: 500' });
  const backend = await listen((_req, res) => res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text));
  const { pool, replica } = poolOf('http://127.0.0.1:9', backend);
  const f = await front(replica, pool);
  for (let i = 0; i < 5; i++) {
    const res = await rawRequest(`${f.url}/mirror/+simple/x/`, 'GET');
    assert.equal(res.statusCode, 502);
    assert.equal(res.body, text);
    assert.equal(res.statusMessage, 'upstream https://pypi.example/simple/ is failing: 500');
  }
  assert.equal(replica.requestFails, 0);
  assert.equal(replica.ejections, 0);
  assert.equal(replica.up, true);
});

test('500 answers to writes never eject the master', async () => {
  const backend = await listen((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"boom"}'));
  });
  const { pool, master } = poolOf(backend);
  const f = await front(master, pool);
  for (let i = 0; i < 4; i++) assert.equal((await rawRequest(`${f.url}/root/dev/`, 'POST', 'x')).statusCode, 500);
  assert.equal(master.ejections, 0);
  assert.ok(pool.pickWrite(), 'the master still takes writes');
});

test('a write to a master that never answers (hung) is answered 504 after the stall timeout and counts as a failure', async () => {
  const backend = await listen((req) => req.resume()); // reads the body, never answers
  const { pool, master } = poolOf(backend);
  const f = await front(master, pool, 0, 300);
  const t0 = Date.now();
  const res = await rawRequest(`${f.url}/root/dev/`, 'POST', 'small');
  const took = Date.now() - t0;
  assert.equal(res.statusCode, 504);
  assert.match(res.body, /stopped answering \(no progress for 300 ms\).*may or may not have been committed/);
  assert.ok(took < 5_000, `answered in ${took} ms`);
  assert.equal(master.requestFails, 1);
});

test('an upload the master stops reading is answered 504 after the stall timeout', async () => {
  let arrived: () => void = () => {};
  const seen = new Promise<void>((r) => (arrived = r));
  const backend = await listen((req) => {
    arrived();
    req.pause(); // takes no more bytes
  });
  const { pool, master } = poolOf(backend);
  const f = await front(master, pool, 0, 300);
  const big = Buffer.alloc(24 * 1024 * 1024, 1);
  const pending = rawRequest(`${f.url}/root/dev/`, 'POST', big.toString('latin1'), { 'content-length': String(big.length) }).catch((e: Error) => ({ statusCode: -1, body: e.message }));
  await seen;
  const res = await pending;
  assert.equal(res.statusCode, 504, res.body);
});

test('a slow client whose pauses are longer than the stall timeout is not cut: progress, not total time', async () => {
  const backend = await listen((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => res.writeHead(200).end(String(n)));
  });
  const { pool, master } = poolOf(backend);
  const f = await front(master, pool, 0, 300);
  const status = await new Promise<{ code: number; body: string }>((resolve, reject) => {
    const req = httpRequest(`${f.url}/root/dev/`, { method: 'POST', headers: { 'content-length': '4' } }, (r) => {
      let b = '';
      r.on('data', (c: Buffer) => (b += c.toString()));
      r.on('end', () => resolve({ code: r.statusCode ?? 0, body: b }));
    });
    req.on('error', reject);
    void (async () => {
      for (let i = 0; i < 4; i++) {
        req.write('x');
        await new Promise((r) => setTimeout(r, 500));
      }
      req.end();
    })();
  });
  assert.deepEqual(status, { code: 200, body: '4' });
});

test('an in-flight write to a master marked down (failed health checks) is answered 504', async () => {
  let arrived: () => void = () => {};
  const inFlight = new Promise<void>((r) => (arrived = r));
  const backend = await listen((req) => {
    req.resume();
    arrived();
  });
  const { pool, master } = poolOf(backend);
  const f = await front(master, pool);
  const pending = rawRequest(`${f.url}/root/dev/`, 'POST', 'x');
  await inFlight;
  pool.markDown(master);
  const res = await pending;
  assert.equal(res.statusCode, 504);
  assert.match(res.body, /its health checks failed/);
});

test('a client that goes away mid-upload counts against nobody', async () => {
  let arrived: () => void = () => {};
  const inFlight = new Promise<void>((r) => (arrived = r));
  const backend = await listen((req) => {
    req.resume();
    arrived();
  });
  const { pool, master } = poolOf(backend);
  const f = await front(master, pool);
  const req = httpRequest(`${f.url}/root/dev/`, { method: 'POST', headers: { 'content-length': '100' } });
  req.on('error', () => undefined);
  req.write('x');
  await inFlight;
  req.destroy();
  await new Promise((r) => setTimeout(r, 100));
  await waitUntil(() => master.outstanding === 0);
  assert.equal(master.requestFails, 0);
  assert.equal(master.up, true);
  assert.deepEqual(f.outcomes, ['done']);
});

async function waitUntil(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(cond());
}

test('an in-flight read to a backend that goes down is cancelled and retryable', async () => {
  let arrived: () => void = () => {};
  const inFlight = new Promise<void>((r) => (arrived = r));
  const backend = await listen(() => arrived()); // never answers
  const { pool, replica } = poolOf('http://127.0.0.1:9', backend);
  const f = await front(replica, pool);
  const pending = request(`${f.url}/x`, { dispatcher: agent });
  await inFlight;
  assert.equal(replica.pending.size, 1);
  pool.markDown(replica);
  const res = await pending;
  await res.body.dump();
  assert.equal(res.headers['x-outcome'], 'retry');
  assert.equal(replica.outstanding, 0);
});

test('a small JSON error answer keeps its message as the reason phrase', async () => {
  const text = JSON.stringify({ message: 'file exists: a-1.0.tar.gz' });
  const backend = await listen((_req, res) => res.writeHead(409, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text));
  const { pool, master } = poolOf(backend);
  const f = await front(master, pool);
  const res = await rawRequest(`${f.url}/root/dev/`, 'POST');
  assert.equal(res.statusCode, 409);
  assert.equal(res.body, text);
  assert.equal(res.statusMessage, 'file exists: a-1.0.tar.gz');
  assert.equal(master.requestFails, 0, 'a 4xx is an answer, not a failure');
});

test('a write to a master that refuses connections is answered 503 with Retry-After and takes the master down', async () => {
  const closed = await listen(() => {});
  servers.at(-1)!.close();
  await new Promise((r) => setTimeout(r, 20));
  const { pool, master } = poolOf(closed);
  const f = await front(master, pool);
  const res = await request(`${f.url}/root/dev/`, { dispatcher: agent, method: 'POST', body: 'x' });
  assert.equal(res.statusCode, 503);
  assert.equal(res.headers['retry-after'], '10');
  assert.match(await res.body.text(), /the master is unavailable/);
  assert.equal(master.up, false);
});
