import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import yazl from 'yazl';
import { Changelog, FileStore } from '@wheelhouse/changelog';
import { createUser } from '../model/users.js';
import { createIndex } from '../model/indexes.js';
import { attachFile, attachToxResult } from '../model/releases.js';
import { entrypathFor } from '../model/stage-paths.js';
import { createWebRouter, type WebRouter } from './web-router.js';

let dir = '';
let cl: Changelog;
let web: WebRouter;
let server: ReturnType<express.Express['listen']>;
let base = '';
const HTML = { Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

async function docZip(): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from('<!DOCTYPE html><title>Demo docs</title><h1>Demo documentation</h1><script>document.title="x"</script>'), 'index.html');
  zip.addBuffer(Buffer.from('body{}'), '_static/basic.css');
  zip.addBuffer(Buffer.from('<p>api</p>'), 'api/index.html');
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wh-web-'));
  cl = await Changelog.openInMemory();
  const files = new FileStore(join(dir, 'files'));
  const wheel = await files.putBytes(Buffer.from('not really a wheel'));
  const doc = await files.putBytes(await docZip());
  const tox = await files.putBytes(Buffer.from(JSON.stringify({ reportversion: '1', host: 'ci', platform: 'linux', testenvs: { py311: { test: [{ command: ['pytest'], retcode: '1', output: 'E assert 1 == 2' }] } } })));
  await cl.write((tx) => {
    createUser(tx, 'alice', {});
    createIndex(tx, 'alice', 'dev', {});
    const metadata = {
      name: 'Demo_Pkg',
      version: '1.0',
      summary: 'A frobnicating widget',
      description: '# Demo\n\nSome **bold** text.\n\n<script>alert(1)</script><img src=x onerror=alert(2)>',
      description_content_type: 'text/markdown',
      project_urls: ['Source, https://example.com/src', 'Bad, javascript:alert(1)'],
    };
    attachFile(tx, 'alice/dev', metadata, { filename: 'demo_pkg-1.0-py3-none-any.whl', sha256: wheel.sha256, size: wheel.size }, 'releasefile', 'alice');
    attachFile(tx, 'alice/dev', { name: 'Demo_Pkg', version: '1.0' }, { filename: 'demo_pkg-1.0.doc.zip', sha256: doc.sha256, size: doc.size }, 'doczip', 'alice');
    attachToxResult(tx, entrypathFor('alice/dev', wheel.sha256, 'demo_pkg-1.0-py3-none-any.whl'), tox, 'ci-bot');
  });
  web = createWebRouter({ state: cl, files, status: () => ({ role: 'MASTER', serial: cl.head, replicas: [] }), role: 'master' });
  const app = express();
  app.use(web);
  app.use((_req, res) => void res.status(299).json({ fallthrough: true }));
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  web.close();
  await new Promise((r) => server.close(r));
  await cl.close();
  await rm(dir, { recursive: true, force: true });
});

/** A GET with the path sent exactly as written (fetch would normalise `..`). */
function rawGet(path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}/`, { path, headers: HTML }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('JSON clients fall through to the read API; browsers get HTML', async () => {
  for (const path of ['/', '/alice', '/alice/dev', '/alice/dev/demo-pkg', '/alice/dev/demo-pkg/1.0', '/+status']) {
    const json = await fetch(base + path, { headers: { Accept: 'application/json' } });
    assert.equal(json.status, 299, path);
    const pip = await fetch(base + path, { headers: { Accept: 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01' } });
    assert.equal(pip.status, 299, path);
    const page = await fetch(base + path, { headers: HTML });
    assert.equal(page.status, 200, path);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.equal(page.headers.get('vary'), 'Accept');
  }
});

test('the version page renders the description without anything active in it', async () => {
  const page = await (await fetch(`${base}/alice/dev/demo-pkg/1.0`, { headers: HTML })).text();
  assert.match(page, /<h1[^>]*>Demo<\/h1>/);
  assert.match(page, /<strong>bold<\/strong>/);
  assert.doesNotMatch(page, /<script/i);
  assert.doesNotMatch(page, /onerror/i);
  assert.doesNotMatch(page, /javascript:/i);
  assert.match(page, /demo_pkg-1\.0-py3-none-any\.whl/);
  assert.match(page, /py3-none-any/);
  assert.match(page, /class="badge bad">failed/);
  assert.match(page, /E assert 1 == 2/);
  assert.match(page, /\+doc\//);
  assert.match(page, /href="https:\/\/example.com\/src"/);
});

test('docs are served from the zip, sandboxed, with aliases; traversal is refused', async () => {
  for (const v of ['1.0', 'latest', 'stable']) {
    const res = await fetch(`${base}/alice/dev/demo-pkg/${v}/+doc/`);
    assert.equal(res.status, 200, v);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(res.headers.get('content-security-policy') ?? '', /^sandbox\b/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(await res.text(), /Demo documentation/);
  }
  const css = await fetch(`${base}/alice/dev/demo-pkg/1.0/+doc/_static/basic.css`);
  assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
  const bare = await fetch(`${base}/alice/dev/demo-pkg/1.0/+doc`, { redirect: 'manual' });
  assert.equal(bare.status, 302);
  const folder = await fetch(`${base}/alice/dev/demo-pkg/1.0/+doc/api`, { redirect: 'manual' });
  assert.equal(folder.status, 302);
  assert.match(folder.headers.get('location') ?? '', /\+doc\/api\/$/);
  for (const path of ['/+doc/../../../../etc/passwd', '/+doc/%2e%2e/%2e%2e/secret', '/+doc/a/..%2f..%2fx', '/+doc/..\\..\\x']) {
    const res = await rawGet(`/alice/dev/demo-pkg/1.0${path}`);
    assert.ok(res.status === 400 || res.status === 404, `${path}: ${res.status}`);
    assert.doesNotMatch(res.body, /root:/);
  }
  assert.equal((await rawGet('/alice/dev/demo-pkg/1.0/+doc/%2e%2e/%2e%2e/secret')).status, 400);
  assert.equal((await fetch(`${base}/alice/dev/demo-pkg/9.9/+doc/`)).status, 404);
});

test('search finds a project by a word of its summary (HTML and JSON)', async () => {
  web.search.flush();
  const json = (await (await fetch(`${base}/+search?query=frobnicating`, { headers: { Accept: 'application/json' } })).json()) as { result: { hits: Array<{ project: string }> } };
  assert.equal(json.result.hits[0]!.project, 'demo-pkg');
  const page = await (await fetch(`${base}/+search?query=frobnicating`, { headers: HTML })).text();
  assert.match(page, /href="[^"]*\/alice\/dev\/demo-pkg\/1\.0"/);
});

test('non-normalised names redirect; unknown things get an HTML 404', async () => {
  const res = await fetch(`${base}/alice/dev/Demo_Pkg/1.0`, { headers: HTML, redirect: 'manual' });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get('location'), '/alice/dev/demo-pkg/1.0');
  const missing = await fetch(`${base}/alice/dev/nothing-here`, { headers: HTML });
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /Not found/);
});

test('the stylesheet is served for ever under its hash', async () => {
  const page = await (await fetch(`${base}/`, { headers: HTML })).text();
  const href = /<link rel="stylesheet" href="([^"]+)"/.exec(page)![1]!;
  const css = await fetch(href);
  assert.equal(css.status, 200);
  assert.match(css.headers.get('cache-control') ?? '', /immutable/);
});
