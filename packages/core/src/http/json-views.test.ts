import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { JsonViews } from './json-views.js';

/** A response that records status, headers and body (what the view sender writes). */
function recorder(): { res: ServerResponse; status: () => number; header: (n: string) => string | undefined; body: () => Buffer } {
  const headers = new Map<string, string>();
  const chunks: Buffer[] = [];
  let status = 200;
  const res = {
    statusCode: 200,
    headersSent: false,
    setHeader(n: string, v: string | number) {
      headers.set(n.toLowerCase(), String(v));
    },
    writeHead(s: number, list: string[] = []) {
      status = s;
      for (let i = 0; i + 1 < list.length; i += 2) headers.set(list[i]!.toLowerCase(), list[i + 1]!);
    },
    end(chunk?: Buffer | string) {
      if (this.statusCode !== 200) status = this.statusCode;
      if (chunk !== undefined) chunks.push(Buffer.from(chunk));
    },
  };
  return { res: res as unknown as ServerResponse, status: () => status, header: (n) => headers.get(n), body: () => Buffer.concat(chunks) };
}
const get = (headers: Record<string, string> = {}): IncomingMessage => ({ method: 'GET', url: '/x', headers }) as unknown as IncomingMessage;

const big = (n: number) => ({ type: 'projectconfig', result: Object.fromEntries(Array.from({ length: n }, (_, i) => [`1.${i}`, { name: 'p', version: `1.${i}` }])) });

test('a large view goes out gzip-encoded to a client that accepts it, and is rendered once per serial', () => {
  const source = { head: 5 };
  const views = new JsonViews(source);
  let renders = 0;
  const render = () => {
    renders++;
    return big(200);
  };
  const a = recorder();
  views.send(get({ 'accept-encoding': 'gzip' }), a.res, 'k', render);
  assert.equal(a.header('content-encoding'), 'gzip');
  assert.equal(a.header('content-type'), 'application/json');
  assert.equal(a.header('vary'), 'Accept-Encoding');
  assert.match(a.header('etag') ?? '', /^"[0-9a-f]{40}-gzip"$/);
  assert.deepEqual(JSON.parse(gunzipSync(a.body()).toString()), big(200));
  const b = recorder();
  views.send(get({ 'accept-encoding': 'gzip' }), b.res, 'k', render);
  assert.equal(renders, 1, 'the same serial: not rendered again');
  assert.deepEqual(b.body(), a.body());
  const plain = recorder();
  views.send(get(), plain.res, 'k', render);
  assert.equal(plain.header('content-encoding'), undefined);
  assert.deepEqual(JSON.parse(plain.body().toString()), big(200));
  source.head = 6;
  views.send(get(), recorder().res, 'k', render);
  assert.equal(renders, 2, 'a commit renders it again');
});

test('a small view is plain JSON, rendered per request, never kept', () => {
  const views = new JsonViews({ head: 1 });
  let renders = 0;
  for (let i = 0; i < 2; i++) {
    const r = recorder();
    views.send(get({ 'accept-encoding': 'gzip' }), r.res, 'small', () => {
      renders++;
      return { type: 'indexconfig', result: { type: 'stage' } };
    });
    assert.equal(r.header('content-encoding'), undefined);
    assert.deepEqual(JSON.parse(r.body().toString()), { type: 'indexconfig', result: { type: 'stage' } });
  }
  assert.equal(renders, 2);
});
