import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { COMPRESS_MIN_BYTES, encodedEtag, negotiateEncoding, type EncodableBody } from './content-coding.js';
import type { BodyMeta } from './file-response.js';
import { sendEncodableBody } from './prepared-headers.js';
import { RecordingResponse, fakeRequest } from './test-response.js';

test('negotiation: q-values, q=0 refuses, * counts, br wins a tie, nothing or unknown is identity', () => {
  assert.equal(negotiateEncoding(undefined), undefined);
  assert.equal(negotiateEncoding(''), undefined);
  assert.equal(negotiateEncoding('gzip'), 'gzip');
  assert.equal(negotiateEncoding('gzip, deflate'), 'gzip');
  assert.equal(negotiateEncoding('gzip, deflate, br'), 'br');
  assert.equal(negotiateEncoding('br;q=0.5, gzip'), 'gzip');
  assert.equal(negotiateEncoding('gzip;q=0'), undefined);
  assert.equal(negotiateEncoding('GZIP; q=0.0, br;q=0'), undefined);
  assert.equal(negotiateEncoding('br;q=0, gzip;q=0.1'), 'gzip');
  assert.equal(negotiateEncoding('*'), 'br');
  assert.equal(negotiateEncoding('*;q=0, gzip'), 'gzip');
  assert.equal(negotiateEncoding('identity, deflate'), undefined);
  assert.equal(negotiateEncoding('gzip;q=bogus'), undefined, 'an unreadable q is no acceptance');
});

test('an encoded ETag is distinct per coding and stays a quoted strong tag', () => {
  assert.equal(encodedEtag('"abc"', 'gzip'), '"abc-gzip"');
  assert.equal(encodedEtag('"abc"', 'br'), '"abc-br"');
});

const meta: Omit<BodyMeta, 'etag'> = { contentType: 'text/html', caching: 'mutable', vary: 'Accept' };
const bigBody = (): EncodableBody => ({ body: Buffer.from('<a href="x">x</a><br>\n'.repeat(500)), etag: '"p1"' });

function send(page: EncodableBody, method: string, headers: Record<string, string>): RecordingResponse {
  const r = new RecordingResponse();
  sendEncodableBody(fakeRequest(method, headers), r.res, ['X-Devpi-Serial', '3'], meta, page);
  return r;
}

test('gzip: Content-Encoding, the coding ETag, Vary names Accept-Encoding, the bytes decode to the page', () => {
  const page = bigBody();
  const r = send(page, 'GET', { 'accept-encoding': 'gzip' });
  assert.equal(r.statusCode, 200);
  assert.equal(r.getHeader('content-encoding'), 'gzip');
  assert.equal(r.getHeader('etag'), '"p1-gzip"');
  assert.equal(r.getHeader('vary'), 'Accept, Accept-Encoding');
  assert.deepEqual(gunzipSync(r.bodyBytes), page.body);
  assert.equal(Number(r.getHeader('content-length')), r.bodyBytes.length);
  assert.ok(r.bodyBytes.length < page.body.length / 5);
});

test('br where accepted; identity without Accept-Encoding still says Vary and keeps the plain ETag', () => {
  const page = bigBody();
  const br = send(page, 'GET', { 'accept-encoding': 'gzip, br' });
  assert.equal(br.getHeader('content-encoding'), 'br');
  assert.equal(br.getHeader('etag'), '"p1-br"');
  assert.deepEqual(brotliDecompressSync(br.bodyBytes), page.body);
  const plain = send(page, 'GET', {});
  assert.equal(plain.getHeader('content-encoding'), undefined);
  assert.equal(plain.getHeader('etag'), '"p1"');
  assert.equal(plain.getHeader('vary'), 'Accept, Accept-Encoding');
  assert.deepEqual(plain.bodyBytes, page.body);
});

test('compressed once per page object: a second request sends the same buffer', () => {
  const page = bigBody();
  send(page, 'GET', { 'accept-encoding': 'gzip' });
  const first = page.encoded?.gzip;
  assert.ok(first);
  send(page, 'GET', { 'accept-encoding': 'gzip' });
  assert.equal(page.encoded?.gzip, first);
  assert.equal(page.encoded?.br, undefined, 'a coding nobody asked for is never made');
});

test('304 on the coding ETag only; HEAD has the encoded length and no body', () => {
  const page = bigBody();
  assert.equal(send(page, 'GET', { 'accept-encoding': 'gzip', 'if-none-match': '"p1-gzip"' }).statusCode, 304);
  assert.equal(send(page, 'GET', { 'accept-encoding': 'gzip', 'if-none-match': '"p1"' }).statusCode, 200, 'the plain tag does not validate the gzip variant');
  assert.equal(send(page, 'GET', { 'if-none-match': '"p1"' }).statusCode, 304);
  const head = send(page, 'HEAD', { 'accept-encoding': 'gzip' });
  assert.equal(head.statusCode, 200);
  assert.equal(head.bodyBytes.length, 0);
  assert.equal(Number(head.getHeader('content-length')), page.encoded!.gzip!.length);
});

test('a page under the threshold is sent as it is, without Vary: Accept-Encoding', () => {
  const page: EncodableBody = { body: Buffer.alloc(COMPRESS_MIN_BYTES - 1, 'a'), etag: '"s"' };
  const r = send(page, 'GET', { 'accept-encoding': 'gzip' });
  assert.equal(r.getHeader('content-encoding'), undefined);
  assert.equal(r.getHeader('vary'), 'Accept');
  assert.equal(r.bodyBytes.length, COMPRESS_MIN_BYTES - 1);
});
