import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { StoredBody } from './file-response.js';
import { sendStoredPage, StoredPageVariants } from './stored-page-variants.js';
import { RecordingResponse, fakeRequest } from './test-response.js';

const dir = mkdtempSync(join(tmpdir(), 'wh-stored-page-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function storedPage(name: string, text: string): StoredBody {
  const path = join(dir, name);
  writeFileSync(path, text);
  return { path, size: Buffer.byteLength(text), etag: `"${name}"`, modified: 1_700_000_000_000, contentType: 'text/html', caching: 'mutable', vary: 'Accept' };
}
const LIST = '<a href="/root/pypi/+simple/pkg/">pkg</a><br/>\n'.repeat(2_000);

async function send(file: StoredBody, headers: Record<string, string>, variants: StoredPageVariants, method = 'GET'): Promise<RecordingResponse> {
  const r = new RecordingResponse();
  await sendStoredPage(fakeRequest(method, headers), r.res, ['X-Devpi-Serial', '7'], file, () => {
    throw new Error('missing');
  }, variants);
  return r;
}

test('a stored page in gzip and br: Content-Encoding, the coding ETag, Vary names Accept-Encoding, the bytes decode to the page', async () => {
  const v = new StoredPageVariants();
  const file = storedPage('list1', LIST);
  const gz = await send(file, { 'accept-encoding': 'gzip, deflate' }, v);
  assert.equal(gz.statusCode, 200);
  assert.equal(gz.getHeader('content-encoding'), 'gzip');
  assert.equal(gz.getHeader('etag'), '"list1-gzip"');
  assert.equal(gz.getHeader('vary'), 'Accept, Accept-Encoding');
  assert.equal(gz.getHeader('x-devpi-serial'), '7');
  assert.equal(gunzipSync(gz.bodyBytes).toString(), LIST);
  assert.ok(gz.bodyBytes.length < LIST.length / 10);
  const br = await send(file, { 'accept-encoding': 'br' }, v);
  assert.equal(br.getHeader('etag'), '"list1-br"');
  assert.equal(brotliDecompressSync(br.bodyBytes).toString(), LIST);
});

test('compressed once per (page, coding): later requests, and requests during the work, share one buffer', async () => {
  const v = new StoredPageVariants();
  const file = storedPage('list2', LIST);
  const [a, b] = await Promise.all([v.variant(file, 'gzip'), v.variant(file, 'gzip')]);
  assert.equal(a, b);
  assert.equal(await v.variant(file, 'gzip'), a);
  assert.equal(v.heldBytes, a.length);
  assert.notEqual(await v.variant({ ...file, etag: '"other"' }, 'gzip'), a, 'another page (another sha256) is its own variant');
});

test('the budget drops the oldest variants; a variant larger than the budget is made but not kept', async () => {
  const file = storedPage('list3', LIST);
  const size = (await new StoredPageVariants().variant(file, 'gzip')).length;
  const v = new StoredPageVariants(size + 10);
  await v.variant(file, 'gzip');
  await v.variant({ ...file, etag: '"list3b"' }, 'gzip');
  assert.equal(v.heldBytes, size, 'one of the two fits');
  const tiny = new StoredPageVariants(10);
  await tiny.variant(file, 'gzip');
  assert.equal(tiny.heldBytes, 0);
});

test('304 on the coding ETag; HEAD has the encoded length and no body; a missing file answers through onMissing', async () => {
  const v = new StoredPageVariants();
  const file = storedPage('list4', LIST);
  assert.equal((await send(file, { 'accept-encoding': 'gzip', 'if-none-match': '"list4-gzip"' }, v)).statusCode, 304);
  assert.equal((await send(file, { 'accept-encoding': 'gzip', 'if-none-match': '"list4"' }, v)).statusCode, 200);
  const head = await send(file, { 'accept-encoding': 'gzip' }, v, 'HEAD');
  assert.equal(head.bodyBytes.length, 0);
  assert.equal(Number(head.getHeader('content-length')), (await v.variant(file, 'gzip')).length);
  let missing = false;
  await sendStoredPage(fakeRequest('GET', { 'accept-encoding': 'gzip' }), new RecordingResponse().res, [], { ...file, path: join(dir, 'gone'), etag: '"gone"' }, () => {
    missing = true;
  }, v);
  assert.ok(missing);
});
