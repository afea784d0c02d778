import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CircuitBreaker,
  UpstreamError,
  fetchProjectList,
  fetchProjectPage,
  parseProjectHtml,
  parseProjectJson,
  PROJECT_ACCEPT,
} from './upstream.js';

const A = 'a'.repeat(64);
const B = 'B'.repeat(64);
const M = 'c'.repeat(64);
const PAGE = 'https://files.example.invalid/simple/demo-pkg/';

// ---- PEP 691 JSON ---------------------------------------------------------------------------

test('JSON page: hashes, requires-python, yanked, core-metadata, size, upload-time and versions are kept', () => {
  const doc = {
    meta: { 'api-version': '1.1' },
    name: 'demo-pkg',
    versions: ['1.0', '2.0'],
    files: [
      {
        filename: 'demo_pkg-1.0-py3-none-any.whl',
        url: 'https://cdn.example.invalid/demo_pkg-1.0-py3-none-any.whl#sha256=ignored',
        hashes: { sha256: B, md5: 'x' },
        'requires-python': '>=3.8',
        'core-metadata': { sha256: M },
        size: 1234,
        'upload-time': '2024-01-02T03:04:05.000000Z',
      },
      { filename: 'demo-pkg-2.0.tar.gz', url: '../../files/demo-pkg-2.0.tar.gz', hashes: { sha256: A }, yanked: 'broken build', 'data-dist-info-metadata': true },
      { filename: 'demo-pkg-1.5.tar.gz', url: '/x/demo-pkg-1.5.tar.gz', hashes: {}, yanked: true },
      { filename: 'demo-pkg-1.6.tar.gz', url: '/x/demo-pkg-1.6.tar.gz', hashes: { sha256: A }, yanked: false, 'requires-python': '' },
    ],
  };
  const { links, versions } = parseProjectJson(JSON.stringify(doc), PAGE, 'demo-pkg');
  assert.deepEqual(versions, ['1.0', '2.0']);
  assert.equal(links.length, 4);
  const [whl, sdist, noHash, notYanked] = links as [typeof links[0], typeof links[0], typeof links[0], typeof links[0]];
  assert.deepEqual(whl, {
    filename: 'demo_pkg-1.0-py3-none-any.whl',
    url: 'https://cdn.example.invalid/demo_pkg-1.0-py3-none-any.whl',
    version: '1.0',
    sha256: B.toLowerCase(),
    requires_python: '>=3.8',
    core_metadata: M,
    size: 1234,
    upload_time: '2024-01-02T03:04:05.000000Z',
  });
  // relative URLs resolve against the page URL
  assert.equal(sdist.url, 'https://files.example.invalid/files/demo-pkg-2.0.tar.gz');
  assert.equal(sdist.yanked, 'broken build');
  assert.equal(sdist.core_metadata, true, 'the older data-dist-info-metadata key counts, and `true` means "exists, no hash"');
  assert.equal(noHash.sha256, undefined);
  assert.equal(noHash.yanked, true);
  assert.equal(noHash.url, 'https://files.example.invalid/x/demo-pkg-1.5.tar.gz');
  assert.equal(notYanked.yanked, undefined, 'yanked: false is not yanked');
  assert.equal(notYanked.requires_python, undefined, 'an empty requires-python is no constraint');
});

test('JSON page: files of other projects (a name prefix, another project) are dropped', () => {
  const doc = {
    meta: { 'api-version': '1.0' },
    files: [
      { filename: 'demo-pkg-1.0.tar.gz', url: 'a/demo-pkg-1.0.tar.gz', hashes: { sha256: A } },
      { filename: 'demo-pkg-extra-1.0.tar.gz', url: 'a/demo-pkg-extra-1.0.tar.gz', hashes: { sha256: A } },
      { filename: 'other-1.0-py3-none-any.whl', url: 'a/other-1.0-py3-none-any.whl', hashes: { sha256: A } },
      { filename: 'Demo.Pkg-3.0.zip', url: 'a/Demo.Pkg-3.0.zip', hashes: { sha256: A } },
      { filename: 'README.txt', url: 'a/README.txt', hashes: {} },
    ],
  };
  const { links } = parseProjectJson(JSON.stringify(doc), PAGE, 'demo-pkg');
  assert.deepEqual(links.map((l) => l.filename), ['demo-pkg-1.0.tar.gz', 'Demo.Pkg-3.0.zip']);
  assert.deepEqual(links.map((l) => l.version), ['1.0', '3.0']);
});

test('JSON page: unparsable JSON and api-version 2 are UpstreamErrors naming the page', () => {
  assert.throws(() => parseProjectJson('{not json', PAGE, 'demo-pkg'), (e: unknown) => e instanceof UpstreamError && e.message.includes(PAGE));
  assert.throws(
    () => parseProjectJson(JSON.stringify({ meta: { 'api-version': '2.0' }, files: [] }), PAGE, 'demo-pkg'),
    (e: unknown) => e instanceof UpstreamError && /api-version 2\.0/.test(e.message),
  );
});

// ---- PEP 503 HTML ---------------------------------------------------------------------------

test('HTML page: #sha256 fragment, data-requires-python (entities decoded), data-yanked, data-core-metadata, relative URLs', () => {
  const html = `<!DOCTYPE html><html><body>
    <a href="../../files/demo_pkg-1.0-py3-none-any.whl#sha256=${B}" data-requires-python="&gt;=3.8,&lt;4" data-core-metadata="sha256=${M}">demo_pkg-1.0-py3-none-any.whl</a><br>
    <a href="https://cdn.example.invalid/demo-pkg-2.0.tar.gz#md5=abc" data-yanked="">demo-pkg-2.0.tar.gz</a>
    <a href="/p/demo-pkg-2.1.tar.gz#sha256=${A}" data-yanked="do not use" data-dist-info-metadata="true">demo-pkg-2.1.tar.gz</a>
    <a HREF="/p/demo-pkg-2.2.tar.gz" DATA-REQUIRES-PYTHON=">=3.9">  </a>
    <a href="/p/other-9.0.tar.gz#sha256=${A}">other-9.0.tar.gz</a>
    <a>no href</a>
  </body></html>`;
  const { links } = parseProjectHtml(html, PAGE, 'demo-pkg');
  assert.deepEqual(links.map((l) => l.filename), ['demo_pkg-1.0-py3-none-any.whl', 'demo-pkg-2.0.tar.gz', 'demo-pkg-2.1.tar.gz', 'demo-pkg-2.2.tar.gz']);
  const [whl, md5only, yanked, noText] = links as [typeof links[0], typeof links[0], typeof links[0], typeof links[0]];
  assert.deepEqual(whl, {
    filename: 'demo_pkg-1.0-py3-none-any.whl',
    url: 'https://files.example.invalid/files/demo_pkg-1.0-py3-none-any.whl',
    version: '1.0',
    sha256: B.toLowerCase(),
    requires_python: '>=3.8,<4',
    core_metadata: M,
  });
  assert.equal(md5only.sha256, undefined, 'only sha256 fragments are kept as hashes');
  assert.equal(md5only.yanked, true, 'an empty data-yanked means yanked without reason');
  assert.equal(md5only.url, 'https://cdn.example.invalid/demo-pkg-2.0.tar.gz');
  assert.equal(yanked.yanked, 'do not use');
  assert.equal(yanked.sha256, A);
  assert.equal(yanked.core_metadata, true);
  assert.equal(yanked.url, 'https://files.example.invalid/p/demo-pkg-2.1.tar.gz');
  // no anchor text: the file name comes from the URL; attribute names are case-insensitive
  assert.equal(noText.requires_python, '>=3.9');
});

test('HTML page: an empty page has no links; a name that only shares a prefix is another project', () => {
  assert.deepEqual(parseProjectHtml('<html><body></body></html>', PAGE, 'demo-pkg').links, []);
  const { links } = parseProjectHtml(`<a href="demo-pkg-extra-1.0.tar.gz">demo-pkg-extra-1.0.tar.gz</a><a href="demo_pkg-1.0.tar.gz">demo_pkg-1.0.tar.gz</a>`, PAGE, 'demo-pkg');
  assert.deepEqual(links.map((l) => l.filename), ['demo_pkg-1.0.tar.gz']);
  assert.equal(links[0]!.url, 'https://files.example.invalid/simple/demo-pkg/demo_pkg-1.0.tar.gz');
});

// ---- fetching over HTTP ---------------------------------------------------------------------

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function withServer(handler: Handler, fn: (base: string, seen: IncomingMessage[]) => Promise<void>): Promise<void> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

test('fetchProjectPage asks for PEP 691 JSON first, parses JSON, keeps the ETag and the serial', async () => {
  const body = JSON.stringify({ meta: { 'api-version': '1.1' }, files: [{ filename: 'demo-pkg-1.0.tar.gz', url: '/f/demo-pkg-1.0.tar.gz', hashes: { sha256: A } }] });
  await withServer(
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json', etag: '"e1"', 'x-pypi-last-serial': '777' });
      res.end(body);
    },
    async (base, seen) => {
      const got = await fetchProjectPage(`${base}/simple/`, 'demo-pkg', undefined, 2_000);
      assert.equal(got.status, 'ok');
      if (got.status !== 'ok') return;
      assert.equal(got.etag, '"e1"');
      assert.equal(got.serial, 777);
      assert.equal(got.links[0]!.url, `${base}/f/demo-pkg-1.0.tar.gz`);
      assert.equal(seen[0]!.url, '/simple/demo-pkg/');
      assert.equal(seen[0]!.headers.accept, PROJECT_ACCEPT);
      assert.match(PROJECT_ACCEPT, /^application\/vnd\.pypi\.simple\.v1\+json,/);
      assert.equal(seen[0]!.headers['if-none-match'], undefined);
    },
  );
});

test('fetchProjectPage falls back to HTML, follows a redirect to the slash URL, sends If-None-Match and understands 304', async () => {
  await withServer(
    (req, res) => {
      if (req.url === '/simple/demo-pkg/') {
        res.writeHead(301, { location: '/real/demo-pkg/' });
        return void res.end();
      }
      if (req.headers['if-none-match'] === '"v2"') {
        res.writeHead(304);
        return void res.end();
      }
      res.writeHead(200, { 'content-type': 'text/html', etag: '"v2"' });
      res.end(`<a href="../../f/demo-pkg-1.0.tar.gz#sha256=${A}">demo-pkg-1.0.tar.gz</a>`);
    },
    async (base, seen) => {
      const first = await fetchProjectPage(`${base}/simple/`, 'demo-pkg', undefined, 2_000);
      assert.equal(first.status, 'ok');
      if (first.status !== 'ok') return;
      assert.equal(first.links[0]!.url, `${base}/f/demo-pkg-1.0.tar.gz`, 'relative to the page it was redirected to');
      assert.equal(first.serial, -1, 'no X-PyPI-Last-Serial: -1');
      const second = await fetchProjectPage(`${base}/simple/`, 'demo-pkg', first.etag, 2_000);
      assert.deepEqual(second, { status: 'not-modified' });
      assert.equal(seen.at(-1)!.headers['if-none-match'], '"v2"');
    },
  );
});

test('fetchProjectPage: 404 and 410 are not-found, 500 and a refused connection are UpstreamErrors naming the upstream', async () => {
  let status = 404;
  await withServer(
    (_req, res) => {
      res.writeHead(status);
      res.end('x');
    },
    async (base) => {
      assert.deepEqual(await fetchProjectPage(`${base}/simple/`, 'nope', undefined, 2_000), { status: 'not-found' });
      status = 410;
      assert.deepEqual(await fetchProjectPage(`${base}/simple/`, 'nope', undefined, 2_000), { status: 'not-found' });
      status = 500;
      await assert.rejects(fetchProjectPage(`${base}/simple/`, 'nope', undefined, 2_000), (e: unknown) => e instanceof UpstreamError && e.message.includes(`${base}/simple/nope/`) && e.message.includes('500'));
    },
  );
  // a port nothing listens on
  await assert.rejects(fetchProjectPage('http://127.0.0.1:9/simple/', 'nope', undefined, 1_000), (e: unknown) => e instanceof UpstreamError && /unreachable/.test(e.message));
});

test('fetchProjectPage: an upstream that never answers times out with an UpstreamError', async () => {
  await withServer(
    () => undefined,
    async (base) => {
      const t0 = Date.now();
      await assert.rejects(fetchProjectPage(`${base}/simple/`, 'slow', undefined, 300), (e: unknown) => e instanceof UpstreamError);
      assert.ok(Date.now() - t0 < 5_000, `took ${Date.now() - t0} ms`);
    },
  );
});

test('fetchProjectList streams the names out of the HTML list, normalised, in chunks split anywhere', async () => {
  const names = Array.from({ length: 20_000 }, (_, i) => `Proj_${i}.Name`);
  await withServer(
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html', etag: '"L"' });
      const html = `<html><body>${names.map((n) => `<a href="/simple/${n}/">${n}</a>\n`).join('')}</body></html>`;
      // odd chunk sizes: tags and names split across writes
      for (let i = 0; i < html.length; i += 997) res.write(html.slice(i, i + 997));
      res.end();
    },
    async (base) => {
      const got: string[] = [];
      const r = await fetchProjectList(`${base}/simple/`, 2_000, (n) => got.push(n));
      assert.equal(r.etag, '"L"');
      assert.equal(got.length, names.length);
      assert.equal(got[0], 'proj-0-name');
      assert.equal(got.at(-1), `proj-${names.length - 1}-name`);
    },
  );
});

test('CircuitBreaker opens after maxFails consecutive failures for failTimeoutMs; a success closes it', () => {
  const b = new CircuitBreaker({ maxFails: 3, failTimeoutMs: 1_000 });
  const t = 1_000_000;
  assert.ok(b.allows(t));
  b.failure('e1', t);
  b.failure('e2', t);
  assert.ok(b.allows(t), 'two failures: still closed');
  b.success(t);
  b.failure('e3', t);
  b.failure('e4', t);
  assert.ok(b.allows(t), 'the success reset the count');
  b.failure('e5', t);
  assert.equal(b.allows(t), false, 'three consecutive failures open it');
  assert.equal(b.lastError, 'e5');
  assert.equal(b.allows(t + 999), false);
  assert.ok(b.allows(t + 1_000), 'half-open after failTimeoutMs');
  b.failure('e6', t + 1_000);
  assert.equal(b.allows(t + 1_001), false, 'a failure while half-open opens it again');
  b.success(t + 2_500);
  assert.ok(b.allows(t + 2_500));
  assert.equal(b.fails, 0);
  assert.equal(b.lastError, undefined);
});

test('HTML page: the file name is the href\'s unquoted last segment (devpi), and any hex sha256 fragment is kept', () => {
  const html = '<a href="../../pkg/pkg-1%212017.4%2Bdevpi.zip#sha256=1234">pkg-1%212017.4%2Bdevpi.zip#sha256=1234</a>';
  const { links } = parseProjectHtml(html, 'http://127.0.0.1:9/simple/pkg/', 'pkg');
  assert.equal(links.length, 1);
  assert.equal(links[0]!.filename, 'pkg-1!2017.4+devpi.zip');
  assert.equal(links[0]!.version, '1!2017.4+devpi');
  assert.equal(links[0]!.sha256, '1234');
  assert.equal(links[0]!.url, 'http://127.0.0.1:9/pkg/pkg-1%212017.4%2Bdevpi.zip');
});
