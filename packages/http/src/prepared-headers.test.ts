import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EncodableBody } from './content-coding.js';
import { sendBody, type BodyMeta } from './file-response.js';
import { PreparedHeaders, isPlainRead, sendEncodableBody } from './prepared-headers.js';
import { RecordingResponse, fakeRequest } from './test-response.js';

/** A RecordingResponse that also keeps the exact list given to writeHead (order, duplicates). */
class ListResponse extends RecordingResponse {
  list: string[] = [];
  override writeHead(status: number, list: string[] = []): this {
    this.list = [...list];
    return super.writeHead(status, list);
  }
}

const MODIFIED = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const meta: BodyMeta = { etag: '"abc"', modified: MODIFIED, contentType: 'application/zip', caching: 'immutable' };
const bytes = Buffer.from('0123456789');
const head = ['X-Devpi-Serial', '3'];

function viaPlan(method: string, headers: Record<string, string> = {}, lead: string[] = []): ListResponse {
  const r = new ListResponse();
  sendBody(fakeRequest(method, headers), r.res, [...head, ...lead], meta, bytes);
  return r;
}

function viaPrepared(p: PreparedHeaders, method: string, headers: Record<string, string> = {}, h: readonly string[] = head): ListResponse {
  const r = new ListResponse();
  p.send(fakeRequest(method, headers), r.res, h, bytes);
  return r;
}

test('a plain GET or HEAD from prepared headers is byte for byte what the full plan sends', () => {
  for (const lead of [[], ['Content-Encoding', 'gzip']]) {
    const p = new PreparedHeaders(meta, bytes.length, lead);
    for (const method of ['GET', 'HEAD']) {
      const a = viaPrepared(p, method);
      const b = viaPlan(method, {}, lead);
      assert.equal(a.statusCode, 200);
      assert.deepEqual(a.list, b.list, `${method} ${lead.join(' ')}`);
      assert.equal(a.body, b.body);
      assert.ok(a.ended);
    }
  }
  assert.equal(viaPrepared(new PreparedHeaders(meta, bytes.length), 'HEAD').body, '', 'HEAD sends no body');
});

test('validators and ranges still get 304, 206 and 416 from prepared headers', () => {
  const p = new PreparedHeaders(meta, bytes.length);
  assert.equal(viaPrepared(p, 'GET', { 'if-none-match': '"abc"' }).statusCode, 304);
  assert.equal(viaPrepared(p, 'GET', { 'if-modified-since': new Date(MODIFIED).toUTCString() }).statusCode, 304);
  const ranged = viaPrepared(p, 'GET', { range: 'bytes=2-4' });
  assert.equal(ranged.statusCode, 206);
  assert.equal(ranged.body, '234');
  assert.equal(viaPrepared(p, 'GET', { range: 'bytes=20-' }).statusCode, 416);
  assert.equal(viaPrepared(p, 'GET', { 'if-none-match': '"other"' }).statusCode, 200);
  assert.equal(isPlainRead(fakeRequest('GET', { accept: '*/*' })), true);
  assert.equal(isPlainRead(fakeRequest('GET', { range: 'bytes=0-1' })), false);
});

test('the full list is reused while the node headers are the same list, rebuilt when they change', () => {
  const p = new PreparedHeaders(meta, bytes.length);
  const first = p.headers(head);
  assert.equal(p.headers(head), first, 'same head list: same array');
  const next = ['X-Devpi-Serial', '4'];
  const second = p.headers(next);
  assert.notEqual(second, first);
  assert.equal(second[1], '4');
  assert.equal(viaPrepared(p, 'GET', {}, next).getHeader('x-devpi-serial'), '4');
});

test('a body of another length than prepared is sent through the full plan (right Content-Length)', () => {
  const p = new PreparedHeaders(meta, 3);
  const r = viaPrepared(p, 'GET');
  assert.equal(r.getHeader('content-length'), '10');
  assert.equal(r.body, '0123456789');
});

test('a page keeps one prepared representation per coding and content type: none leaks into another', () => {
  const page: EncodableBody = { body: Buffer.from('<a href="x">x</a><br>\n'.repeat(500)), etag: '"p1"' };
  const send = (type: string, headers: Record<string, string>): ListResponse => {
    const r = new ListResponse();
    sendEncodableBody(fakeRequest('GET', headers), r.res, head, { contentType: type, caching: 'mutable', vary: 'Accept' }, page);
    return r;
  };
  const gz = send('text/html', { 'accept-encoding': 'gzip' });
  const plain = send('text/html', {});
  const other = send('application/vnd.pypi.simple.v1+html', { 'accept-encoding': 'br' });
  assert.equal(gz.getHeader('content-encoding'), 'gzip');
  assert.equal(gz.getHeader('etag'), '"p1-gzip"');
  assert.equal(plain.getHeader('content-encoding'), undefined);
  assert.equal(plain.getHeader('etag'), '"p1"');
  assert.equal(plain.getHeader('content-length'), String(page.body.length));
  assert.equal(other.getHeader('content-type'), 'application/vnd.pypi.simple.v1+html');
  assert.equal(other.getHeader('etag'), '"p1-br"');
  assert.equal(send('text/html', { 'accept-encoding': 'gzip' }).getHeader('etag'), '"p1-gzip"', 'the kept gzip headers again');
  assert.equal(page.prepared?.size, 3);
});

test('a small page prepared once sends its Vary and no Content-Encoding', () => {
  const page: EncodableBody = { body: Buffer.from('<p>small</p>'), etag: '"s"' };
  const r = new ListResponse();
  sendEncodableBody(fakeRequest('GET', { 'accept-encoding': 'gzip' }), r.res, head, { contentType: 'text/html', caching: 'mutable', vary: 'Accept' }, page);
  assert.equal(r.getHeader('vary'), 'Accept');
  assert.equal(r.getHeader('content-encoding'), undefined);
  assert.equal(r.body, '<p>small</p>');
});
