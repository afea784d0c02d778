import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isNotModified, planResponse, sendBody, type BodyMeta } from './file-response.js';
import { RecordingResponse, fakeRequest } from './test-response.js';

const MODIFIED = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const file: BodyMeta = { etag: '"abc"', modified: MODIFIED, contentType: 'application/zip', caching: 'immutable' };
const page: BodyMeta = { etag: '"p1"', modified: MODIFIED, contentType: 'text/html; charset=utf-8', caching: 'mutable', vary: 'Accept' };
const bytes = Buffer.from('0123456789');

function send(meta: BodyMeta, method: string, headers: Record<string, string> = {}): RecordingResponse {
  const r = new RecordingResponse();
  sendBody(fakeRequest(method, headers), r.res, ['X-Devpi-Serial', '3'], meta, bytes);
  return r;
}

test('a release file: 200 with validators, immutable caching, ranges offered, the node headers kept', () => {
  const r = send(file, 'GET');
  assert.equal(r.statusCode, 200);
  assert.equal(r.body, '0123456789');
  assert.equal(r.getHeader('etag'), '"abc"');
  assert.equal(r.getHeader('last-modified'), new Date(MODIFIED).toUTCString());
  assert.equal(r.getHeader('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(r.getHeader('accept-ranges'), 'bytes');
  assert.equal(r.getHeader('content-length'), '10');
  assert.equal(r.getHeader('content-type'), 'application/zip');
  assert.equal(r.getHeader('x-devpi-serial'), '3');
});

test('HEAD: the same headers, no body', () => {
  const r = send(file, 'HEAD');
  assert.equal(r.statusCode, 200);
  assert.equal(r.getHeader('content-length'), '10');
  assert.equal(r.body, '');
  assert.ok(r.ended);
});

test('304 by If-None-Match: exact, in a list, weak, and *', () => {
  for (const inm of ['"abc"', '"x", "abc"', 'W/"abc"', '*']) {
    const r = send(file, 'GET', { 'if-none-match': inm });
    assert.equal(r.statusCode, 304, inm);
    assert.equal(r.body, '');
    assert.equal(r.getHeader('etag'), '"abc"');
  }
  assert.equal(send(file, 'GET', { 'if-none-match': '"other"' }).statusCode, 200);
});

test('304 by If-Modified-Since (second precision); If-None-Match wins when both are sent', () => {
  const at = new Date(MODIFIED).toUTCString();
  assert.equal(send(file, 'GET', { 'if-modified-since': at }).statusCode, 304);
  assert.equal(send(file, 'HEAD', { 'if-modified-since': new Date(MODIFIED + 60_000).toUTCString() }).statusCode, 304);
  assert.equal(send(file, 'GET', { 'if-modified-since': new Date(MODIFIED - 60_000).toUTCString() }).statusCode, 200);
  assert.equal(send(file, 'GET', { 'if-modified-since': 'yesterday-ish' }).statusCode, 200);
  assert.equal(send(file, 'GET', { 'if-none-match': '"other"', 'if-modified-since': at }).statusCode, 200);
  assert.equal(isNotModified(fakeRequest('GET', { 'if-modified-since': at }), { etag: '"e"' }), false, 'no Last-Modified: no date check');
});

test('a single range is 206 with Content-Range; an unsatisfiable one is 416', () => {
  const r = send(file, 'GET', { range: 'bytes=2-4' });
  assert.equal(r.statusCode, 206);
  assert.equal(r.body, '234');
  assert.equal(r.getHeader('content-range'), 'bytes 2-4/10');
  assert.equal(r.getHeader('content-length'), '3');
  assert.equal(send(file, 'GET', { range: 'bytes=-3' }).body, '789');
  const bad = send(file, 'GET', { range: 'bytes=10-' });
  assert.equal(bad.statusCode, 416);
  assert.equal(bad.getHeader('content-range'), 'bytes */10');
  assert.equal(send(file, 'GET', { range: 'bytes=0-1,4-5' }).statusCode, 200, 'several ranges: the whole body');
});

test('a mutable page: max-age=0, must-revalidate, Vary, ETag; 304 on its validators; never immutable', () => {
  const r = send(page, 'GET');
  assert.equal(r.statusCode, 200);
  assert.equal(r.getHeader('cache-control'), 'max-age=0, must-revalidate');
  assert.equal(r.getHeader('vary'), 'Accept');
  assert.equal(r.getHeader('etag'), '"p1"');
  const head304 = send(page, 'HEAD', { 'if-none-match': '"p1"' });
  assert.equal(head304.statusCode, 304);
  assert.equal(head304.getHeader('cache-control'), 'max-age=0, must-revalidate');
  assert.equal(send(page, 'GET', { 'if-modified-since': new Date(MODIFIED).toUTCString() }).statusCode, 304);
});

test('planResponse of an empty file sends no body and a zero length', () => {
  const plan = planResponse(fakeRequest('GET'), [], file, 0);
  assert.equal(plan.status, 200);
  assert.ok(plan.body && !plan.send);
  assert.ok(plan.headers.includes('Content-Length') && plan.headers[plan.headers.indexOf('Content-Length') + 1] === '0');
});
