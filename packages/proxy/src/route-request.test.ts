import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Backend, BackendPool } from './backends.js';
import type { Forward, ForwardOutcome } from './forward.js';
import { DEFAULT_HEALTH_POLICY } from './policy.js';
import { createProxyMetrics } from './proxy-metrics.js';
import { createRequestRouter } from './route-request.js';

/** The parts of a response the router and the error answer touch. */
class FakeResponse {
  headersSent = false;
  statusCode = 0;
  statusMessage = '';
  headers: Record<string, unknown> = {};
  body = '';
  writeHead(status: number, headers: Record<string, unknown>): this {
    this.statusCode = status;
    this.headers = { ...this.headers, ...headers };
    this.headersSent = true;
    return this;
  }
  setHeader(name: string, value: unknown): this {
    this.headers[name] = value;
    return this;
  }
  end(text?: string): void {
    this.body = text ?? '';
    this.headersSent = true;
  }
  destroy(): void {}
}

function setup(opts: { outcomes?: ForwardOutcome[]; waitMs?: number } = {}) {
  const master = new Backend('master', 'http://m', 'master');
  const replicas = [new Backend('replica1', 'http://r1', 'replica'), new Backend('replica2', 'http://r2', 'replica')];
  const pool = new BackendPool([master, ...replicas], DEFAULT_HEALTH_POLICY);
  const metrics = createProxyMetrics(pool.backends);
  const calls: Array<{ backend: string; attempt: number }> = [];
  const outcomes = [...(opts.outcomes ?? [])];
  const forward: Forward = async (b, _req, res, attempt) => {
    calls.push({ backend: b.name, attempt });
    const outcome = outcomes.shift() ?? 'done';
    if (outcome === 'done') (res as unknown as FakeResponse).writeHead(200, {}).end('ok');
    return outcome;
  };
  const adminCalls: string[] = [];
  const route = createRequestRouter({
    pool,
    forward,
    admin: async (_req, _res, path) => void adminCalls.push(path),
    metrics,
    viaToken: 'wheelhouse-proxy-test',
    readYourWritesWaitMs: opts.waitMs ?? 0,
  });
  const send = async (method: string, url: string, headers: Record<string, string> = {}) => {
    const res = new FakeResponse();
    await route({ method, url, headers, resume() {} } as unknown as IncomingMessage, res as unknown as ServerResponse);
    return res;
  };
  return { pool, master, replicas, metrics, calls, adminCalls, send };
}

test('a read retried once goes to another backend; the retry is counted', async () => {
  const { send, calls, metrics } = setup({ outcomes: ['retry', 'done'] });
  const res = await send('GET', '/root/dev/+simple/x/');
  assert.equal(res.statusCode, 200);
  assert.deepEqual(calls, [{ backend: 'replica1', attempt: 0 }, { backend: 'replica2', attempt: 1 }]);
  assert.equal((await metrics.retries.get()).values[0]?.value, 1);
});

test('when the attempts are spent the proxy answers 503 naming the backends tried', async () => {
  const { send, calls } = setup({ outcomes: ['retry', 'exhausted'] });
  const res = await send('GET', '/x');
  assert.equal(res.statusCode, 503);
  assert.equal(res.headers['Retry-After'], '2');
  assert.match(res.body, /tried: replica1, replica2/);
  assert.equal(calls.length, 2);
});

test('a read with no usable backend is answered 503 at once', async () => {
  const { send, pool, calls } = setup();
  for (const b of pool.backends) b.up = false;
  const res = await send('HEAD', '/x');
  assert.equal(res.statusCode, 503);
  assert.match(res.body, /none usable/);
  assert.equal(calls.length, 0);
});

test('writes go to the master only, once; with the master unavailable they get 503 and Retry-After at once', async () => {
  const { send, calls, master } = setup({ outcomes: ['retry'] });
  await send('POST', '/root/dev/');
  assert.deepEqual(calls, [{ backend: 'master', attempt: 0 }]);
  master.up = false;
  const res = await send('PUT', '/root/dev');
  assert.equal(res.statusCode, 503);
  assert.equal(res.headers['Retry-After'], '10');
  assert.match(res.statusMessage, /the master is unavailable/);
  assert.equal(calls.length, 1);
});

test('a request that already passed through this proxy is refused with 508; admin paths are not forwarded', async () => {
  const { send, calls, adminCalls } = setup();
  assert.equal((await send('GET', '/x', { via: '1.1 lb, 1.1 wheelhouse-proxy-test' })).statusCode, 508);
  await send('GET', '/+status?x=1');
  assert.deepEqual(adminCalls, ['/+status']);
  assert.equal(calls.length, 0);
});

test('read-your-writes: a read waits for a replica to reach the write mark while the master is down', async () => {
  const { send, calls, pool, master, replicas } = setup({ waitMs: 2_000 });
  master.up = false;
  for (const r of replicas) r.noteSerial(5, 'u');
  pool.noteWriteAnswer(200, { serial: 6, masterUuid: 'u' });
  setTimeout(() => replicas[1]!.noteSerial(6, 'u'), 60);
  const res = await send('GET', '/x');
  assert.equal(res.statusCode, 200);
  assert.deepEqual(calls, [{ backend: 'replica2', attempt: 0 }]);
});

test('read-your-writes: with the master up, a read after a write goes to the master when replicas are behind', async () => {
  const { send, calls, pool, replicas } = setup({ waitMs: 2_000 });
  for (const r of replicas) r.noteSerial(5, 'u');
  pool.noteWriteAnswer(200, { serial: 6, masterUuid: 'u' });
  await send('GET', '/x');
  assert.deepEqual(calls, [{ backend: 'master', attempt: 0 }]);
});

test('read-your-writes: the hold ends after readYourWritesWaitMs with 503', async () => {
  const { send, pool, master } = setup({ waitMs: 80 });
  master.up = false;
  pool.noteWriteAnswer(200, { serial: 6, masterUuid: 'u' });
  const start = Date.now();
  const res = await send('GET', '/x');
  assert.equal(res.statusCode, 503);
  assert.ok(Date.now() - start >= 70, 'it waited');
});
