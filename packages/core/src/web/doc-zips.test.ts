import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yazl from 'yazl';
import { DocZips, cleanDocPath, cleanEntryName } from './doc-zips.js';

test('doc paths with .. or . segments, backslashes, NUL or bad escapes are refused (path traversal)', () => {
  for (const bad of ['../secret', 'a/../../etc/passwd', '%2e%2e/x', 'a/%2E%2E/b', '..%2fx', 'a\\..\\b', 'x%00.html', '%E0%A4%A', './index.html', 'a/%2F../b']) {
    assert.equal(cleanDocPath(bad), undefined, bad);
  }
  assert.equal(cleanDocPath(''), 'index.html');
  assert.equal(cleanDocPath('api/'), 'api/index.html');
  assert.equal(cleanDocPath('_static/style.css'), '_static/style.css');
  assert.equal(cleanDocPath('a%20b.html'), 'a b.html');
});

test('zip entry names that would leave the archive are dropped', () => {
  assert.equal(cleanEntryName('../evil.html'), undefined);
  assert.equal(cleanEntryName('/etc/passwd'), undefined);
  assert.equal(cleanEntryName('C:/x'), undefined);
  assert.equal(cleanEntryName('a/../../b'), undefined);
  assert.equal(cleanEntryName('dir/'), undefined);
  assert.equal(cleanEntryName('./index.html'), 'index.html');
  assert.equal(cleanEntryName('a\\b.html'), 'a/b.html');
});

async function zipOf(entries: Record<string, string>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, text] of Object.entries(entries)) zip.addBuffer(Buffer.from(text), name);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('entries are served by exact name only, with content types; a single top folder is looked into', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wh-doczip-'));
  try {
    const flat = 'a'.repeat(64);
    const nested = 'b'.repeat(64);
    await writeFile(join(dir, flat), await zipOf({ 'index.html': '<h1>hi</h1>', '_static/app.css': 'p{}', 'api/index.html': 'api' }));
    await writeFile(join(dir, nested), await zipOf({ 'html/index.html': 'nested', 'html/x.js': 'x' }));
    const zips = new DocZips({ pathFor: (sha) => join(dir, sha) });
    const index = await zips.entry(flat, 'index.html');
    assert.ok(index && index !== 'folder');
    assert.equal(index.contentType, 'text/html; charset=utf-8');
    const chunks: Buffer[] = [];
    for await (const c of await index.open()) chunks.push(c as Buffer);
    index.release();
    assert.equal(Buffer.concat(chunks).toString(), '<h1>hi</h1>');
    const css = await zips.entry(flat, '_static/app.css');
    assert.ok(css && css !== 'folder');
    assert.equal(css.contentType, 'text/css; charset=utf-8');
    css.release();
    assert.equal(await zips.entry(flat, 'api'), 'folder');
    assert.equal(await zips.entry(flat, 'missing.html'), undefined);
    const n = await zips.entry(nested, 'index.html');
    assert.ok(n && n !== 'folder');
    n.release();
    assert.deepEqual((await zips.names(nested)).sort(), ['index.html', 'x.js']);
    await assert.rejects(zips.entry('c'.repeat(64), 'index.html'), /ENOENT/);
    zips.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
