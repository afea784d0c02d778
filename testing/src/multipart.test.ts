import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { legacyUploadBody, multipartBody, twineFields } from './multipart.js';

/** Splits a multipart body into its parts' (headers, content) by the boundary of `contentType`. */
function parts(contentType: string, body: Buffer): Array<{ head: string; content: Buffer }> {
  const boundary = /boundary=(.+)$/.exec(contentType)?.[1];
  assert.ok(boundary, contentType);
  const out: Array<{ head: string; content: Buffer }> = [];
  const delim = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delim);
  for (;;) {
    const start = pos + delim.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delim, start);
    const part = body.subarray(start + 2, next - 2); // after CRLF, before CRLF
    const sep = part.indexOf('\r\n\r\n');
    out.push({ head: part.subarray(0, sep).toString('utf8'), content: part.subarray(sep + 4) });
    pos = next;
  }
  return out;
}

test('multipartBody: text fields in order, then the file part; fileOffset is where its bytes start', () => {
  const content = Buffer.from('\x00\x01binary\r\n--not-a-boundary');
  const m = multipartBody([[':action', 'file_upload'], ['name', 'a"b']], { filename: 'x"1.0.tar.gz', content });
  const p = parts(m.contentType, m.body);
  assert.equal(p.length, 3);
  assert.match(p[0]!.head, /name=":action"/);
  assert.equal(p[0]!.content.toString(), 'file_upload');
  assert.match(p[1]!.head, /name="name"$/);
  assert.equal(p[1]!.content.toString(), 'a"b');
  assert.match(p[2]!.head, /name="content"; filename="x\\"1\.0\.tar\.gz"/);
  assert.deepEqual(p[2]!.content, content);
  assert.deepEqual(m.body.subarray(m.fileOffset, m.fileOffset + content.length), content);
});

test('twineFields: what twine sends, with the real digests unless told otherwise', () => {
  const content = Buffer.from('wheel bytes');
  const f = new Map(twineFields({ name: 'Demo', version: '1.0', filename: 'demo-1.0-py3-none-any.whl', content }));
  assert.equal(f.get(':action'), 'file_upload');
  assert.equal(f.get('filetype'), 'bdist_wheel');
  assert.equal(f.get('pyversion'), 'py3');
  assert.equal(f.get('sha256_digest'), createHash('sha256').update(content).digest('hex'));
  assert.equal(f.get('md5_digest'), createHash('md5').update(content).digest('hex'));
  const wrong = new Map(twineFields({ name: 'Demo', version: '1.0', filename: 'demo-1.0.tar.gz', content, sha256Digest: 'f'.repeat(64), requiresPython: null }));
  assert.equal(wrong.get('sha256_digest'), 'f'.repeat(64));
  assert.equal(wrong.get('filetype'), 'sdist');
  assert.equal(wrong.has('requires_python'), false);
  const bare = twineFields({ name: 'Demo', version: '1.0', filename: 'd.whl', content, minimal: true, extra: { summary: 's' } });
  assert.deepEqual(bare.map(([k]) => k), [':action', 'protocol_version', 'name', 'version', 'summary']);
});

test('legacyUploadBody carries the file content last', () => {
  const content = Buffer.from('sdist');
  const m = legacyUploadBody({ name: 'p', version: '2', filename: 'p-2.tar.gz', content });
  const p = parts(m.contentType, m.body);
  assert.deepEqual(p.at(-1)!.content, content);
});
