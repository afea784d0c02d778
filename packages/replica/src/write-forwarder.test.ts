// The write forwarder against a fake master on loopback: issue 11 — a hung master (SIGSTOP) made a
// replica wait 300 s for the answer of a forwarded write.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import express from 'express';
import { request } from 'undici';
import { pino } from 'pino';
import { Changelog } from '@wheelhouse/changelog';
import { createErrorHandler, handle, replicaTokenSigner } from '@wheelhouse/core';
import { MasterClient } from '@wheelhouse/replication';
import { createWriteForwarder } from './write-forwarder.js';

const servers: Server[] = [];
const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  for (const c of closers) await c();
});

async function listen(handler: RequestListener): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

/** A replica front that forwards every write to `masterUrl` with a stall timeout of `stallMs`. */
async function replicaFront(masterUrl: string, stallMs: number, uploadStallMs = stallMs): Promise<string> {
  const changelog = await Changelog.openInMemory();
  const master = new MasterClient({ masterUrl, replicaTokens: replicaTokenSigner(new Uint8Array(32)), replicaId: 'r1', replicaUrl: 'http://127.0.0.1:1' });
  closers.push(() => master.close());
  const log = pino({ level: 'silent' });
  const app = express();
  app.use(handle(createWriteForwarder({ changelog, master, log, via: 'wheelhouse-replica-r1', stallMs, uploadStallMs })));
  app.use(createErrorHandler(log));
  return listen(app);
}

test('a write to a master that takes the body but never answers (hung) is answered 504 after the stall timeout', async () => {
  const masterUrl = await listen((req) => req.resume());
  const url = await replicaFront(masterUrl, 300);
  const t0 = Date.now();
  const res = await request(`${url}/root/dev/`, { method: 'POST', body: 'x' });
  const text = await res.body.text();
  assert.equal(res.statusCode, 504, text);
  assert.match(text, /stopped answering \(no progress for 300 ms\).*may or may not have been committed/);
  assert.ok(Date.now() - t0 < 5_000);
});

test('an upload the master stops reading is answered 504 after the stall timeout', async () => {
  const masterUrl = await listen((req) => req.pause());
  const url = await replicaFront(masterUrl, 300);
  const big = Buffer.alloc(32 * 1024 * 1024, 1);
  const res = await request(`${url}/root/dev/`, { method: 'POST', body: big }).catch((e: Error) => e);
  assert.ok(!(res instanceof Error), String(res));
  assert.equal(res.statusCode, 504, await res.body.text());
});

test('after a big body the master gets the longer upload stall time to commit: a committed upload is answered 200', async () => {
  const masterUrl = await listen((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":"committed"}'), 800));
  });
  const url = await replicaFront(masterUrl, 300, 3_000);
  const res = await request(`${url}/root/dev/`, { method: 'POST', body: Buffer.alloc(2 * 1024 * 1024, 1) });
  assert.equal(res.statusCode, 200, await res.body.text());
});

test('a slow but moving upload is not cut: pauses longer than the stall timeout while the client sends', async () => {
  const masterUrl = await listen((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ n })));
  });
  const url = await replicaFront(masterUrl, 300);
  async function* trickle() {
    for (let i = 0; i < 4; i++) {
      yield Buffer.from('x');
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const res = await request(`${url}/root/dev/`, { method: 'POST', body: Readable.from(trickle()), headers: { 'content-length': '4' } });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(await res.body.json(), { n: 4 });
});

test('a master that refuses connections is answered 503, not 504', async () => {
  const masterUrl = await listen(() => {});
  const s = servers.pop()!;
  await new Promise((r) => s.close(r));
  const url = await replicaFront(masterUrl, 300);
  const res = await request(`${url}/root/dev/`, { method: 'POST', body: 'x' });
  assert.equal(res.statusCode, 503);
  assert.match(await res.body.text(), /unreachable/);
});
