// The master's mirror cache against a local upstream: first fetch commits the page (with its ETag),
// a fresh page is served without asking upstream, an expired one is revalidated with If-None-Match,
// a failing upstream leaves the stale page served (never an empty page, devpi #925) or gives a
// never-fetched project an error naming the upstream, the circuit breaker stops the requests, and
// offline never asks at all. The full project list is fetched streamed and stored as two pages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Changelog, FileStore } from '@wheelhouse/changelog';
import { createIndex, createUser, getMirrorProject, keys, type MirrorListRecord } from '@wheelhouse/core';
import { type NodeInfo } from '@wheelhouse/http';
import { MirrorService, type MirrorServiceOptions } from './mirror-service.js';

const A = 'a'.repeat(64);
const STAGE = 'root/up';

type Mode = 'ok' | 'fail' | 'not-found';

/** A local PEP 691 upstream whose pages and mode the test sets; counts what it was asked. */
class Upstream {
  mode: Mode = 'ok';
  pages = new Map<string, string[]>();
  names: string[] = [];
  readonly asked: Array<{ path: string; ifNoneMatch: string | undefined }> = [];
  etags = true;
  constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly url: string,
  ) {}

  static async start(): Promise<Upstream> {
    let self: Upstream | undefined;
    const server = createServer((req, res) => self!.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    self = new Upstream(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/simple/`);
    return self;
  }

  hits(path: string): number {
    return this.asked.filter((a) => a.path === path).length;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    const inm = req.headers['if-none-match'];
    this.asked.push({ path, ifNoneMatch: typeof inm === 'string' ? inm : undefined });
    if (this.mode === 'fail') return void res.writeHead(503).end('down');
    if (this.mode === 'not-found') return void res.writeHead(404).end();
    if (path === '/simple/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return void res.end(`<html><body>${this.names.map((n) => `<a href="${n}/">${n}</a>`).join('\n')}</body></html>`);
    }
    const name = /^\/simple\/([^/]+)\/$/.exec(path)?.[1];
    const files = name ? this.pages.get(name) : undefined;
    if (!name || !files) return void res.writeHead(404).end();
    const body = JSON.stringify({ meta: { 'api-version': '1.1' }, name, files: files.map((f) => ({ filename: f, url: `../../f/${f}`, hashes: { sha256: A } })) });
    const etag = `"${files.join(',')}"`;
    if (this.etags && inm === etag) return void res.writeHead(304).end();
    res.writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json', ...(this.etags ? { etag } : {}) });
    res.end(body);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

interface Fixture {
  cl: Changelog;
  files: FileStore;
  up: Upstream;
  svc: MirrorService;
  dispose(): Promise<void>;
}

async function fixture(expiry: number, opts: Partial<MirrorServiceOptions> = {}): Promise<Fixture> {
  const up = await Upstream.start();
  const cl = await Changelog.openInMemory();
  const dir = await mkdtemp(join(tmpdir(), 'wh-mirror-service-'));
  const files = new FileStore(dir);
  await cl.write((tx) => {
    createUser(tx, 'root', {});
    createIndex(tx, 'root', 'up', { type: 'mirror', mirror_url: up.url, mirror_cache_expiry: expiry });
  });
  const node: NodeInfo = { role: 'master', uuid: cl.uuid, masterUuid: () => cl.uuid, serial: () => cl.head };
  const svc = new MirrorService({ changelog: cl, files, node, log: pino({ level: 'silent' }), timeoutMs: 2_000, ...opts });
  return {
    cl,
    files,
    up,
    svc,
    async dispose() {
      await up.stop();
      await cl.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

test('first request fetches and commits the page with its ETag; a fresh page is served without asking upstream', async () => {
  const f = await fixture(1800);
  try {
    f.up.pages.set('demo', ['demo-1.0.tar.gz', 'demo-2.0.tar.gz']);
    const first = f.svc.prepare(STAGE, 'demo');
    assert.ok(first instanceof Promise, 'a never-fetched page is waited for');
    assert.deepEqual(await first, {});
    const rec = getMirrorProject(f.cl, STAGE, 'demo');
    assert.ok(rec);
    assert.deepEqual(rec.links.map((l) => [l.filename, l.sha256, l.url]), [
      ['demo-1.0.tar.gz', A, f.up.url.replace('/simple/', '/f/demo-1.0.tar.gz')],
      ['demo-2.0.tar.gz', A, f.up.url.replace('/simple/', '/f/demo-2.0.tar.gz')],
    ]);
    assert.equal(rec.etag, '"demo-1.0.tar.gz,demo-2.0.tar.gz"');
    const head = f.cl.head;
    for (let i = 0; i < 5; i++) assert.equal(f.svc.prepare(STAGE, 'demo'), undefined);
    assert.equal(f.up.hits('/simple/demo/'), 1);
    assert.equal(f.cl.head, head);
  } finally {
    await f.dispose();
  }
});

test('parallel first requests of one project make one upstream request', async () => {
  const f = await fixture(1800);
  try {
    f.up.pages.set('demo', ['demo-1.0.tar.gz']);
    const all = await Promise.all(Array.from({ length: 10 }, () => f.svc.prepare(STAGE, 'demo')));
    assert.deepEqual(all, Array.from({ length: 10 }, () => ({})));
    assert.equal(f.up.hits('/simple/demo/'), 1);
  } finally {
    await f.dispose();
  }
});

test('an expired page is served at once and revalidated in the background with If-None-Match; a 304 writes nothing', async () => {
  const f = await fixture(0);
  try {
    f.up.pages.set('demo', ['demo-1.0.tar.gz']);
    await f.svc.prepare(STAGE, 'demo');
    const head = f.cl.head;
    assert.equal(f.svc.prepare(STAGE, 'demo'), undefined, 'stale copy: answered now (devpi #1044, #911)');
    assert.deepEqual(await f.svc.refresh(STAGE, 'demo'), {}, 'joins the background refresh');
    const last = f.up.asked.at(-1)!;
    assert.equal(last.ifNoneMatch, '"demo-1.0.tar.gz"');
    assert.equal(f.cl.head, head, 'not modified: no commit');
    // upstream changes: the next refresh commits the new links
    f.up.pages.set('demo', ['demo-1.0.tar.gz', 'demo-1.1.tar.gz']);
    f.svc.prepare(STAGE, 'demo');
    await f.svc.refresh(STAGE, 'demo');
    assert.equal(f.cl.head, head + 1);
    assert.deepEqual(getMirrorProject(f.cl, STAGE, 'demo')!.links.map((l) => l.filename), ['demo-1.0.tar.gz', 'demo-1.1.tar.gz']);
  } finally {
    await f.dispose();
  }
});

test(
  'an unchanged page without ETag writes nothing (devpi §4.2: unchanged pages produce no write)',
  {
  },
  async () => {
  const f = await fixture(0);
  try {
    f.up.etags = false;
    f.up.pages.set('demo', ['demo-1.0.tar.gz']);
    await f.svc.prepare(STAGE, 'demo');
    const head = f.cl.head;
    await f.svc.refresh(STAGE, 'demo');
    await f.svc.refresh(STAGE, 'demo');
    assert.equal(f.cl.head, head);
    assert.equal(f.up.hits('/simple/demo/'), 3);
  } finally {
    await f.dispose();
  }
  },
);

test('upstream failing with a cached page: the stale page stays, and the outcome says why (devpi #925: never an empty page)', async () => {
  const f = await fixture(0);
  try {
    f.up.pages.set('demo', ['demo-1.0.tar.gz']);
    await f.svc.prepare(STAGE, 'demo');
    f.up.mode = 'fail';
    assert.equal(f.svc.prepare(STAGE, 'demo'), undefined, 'first stale answer: the failure is not known yet');
    const outcome = await f.svc.refresh(STAGE, 'demo');
    assert.match(String(outcome.stale), /503/);
    const next = f.svc.prepare(STAGE, 'demo');
    assert.ok(next && !(next instanceof Promise));
    assert.match(String(next.stale), /upstream check failed .*503/);
    assert.equal(getMirrorProject(f.cl, STAGE, 'demo')!.links.length, 1, 'the cached page is kept');
    // upstream lost the project: the page is still kept (devpi test_deleted_package)
    f.up.mode = 'not-found';
    await f.svc.refresh(STAGE, 'demo');
    assert.equal(getMirrorProject(f.cl, STAGE, 'demo')!.links.length, 1);
  } finally {
    await f.dispose();
  }
});

test('a never-fetched project with upstream failing: an error naming the upstream and its answer', async () => {
  const f = await fixture(1800);
  try {
    f.up.mode = 'fail';
    const outcome = await f.svc.prepare(STAGE, 'ghost');
    assert.ok(outcome?.error, JSON.stringify(outcome));
    assert.match(outcome.error, /ghost was never fetched from http:\/\/127\.0\.0\.1:\d+\/simple\//);
    assert.match(outcome.error, /answered 503/);
    assert.equal(getMirrorProject(f.cl, STAGE, 'ghost'), undefined);
  } finally {
    await f.dispose();
  }
});

test('an upstream 404 is remembered for the cache expiry: no second request', async () => {
  const f = await fixture(1800);
  try {
    assert.deepEqual(await f.svc.prepare(STAGE, 'nope'), {});
    assert.equal(f.svc.prepare(STAGE, 'nope'), undefined);
    assert.equal(f.up.hits('/simple/nope/'), 1);
  } finally {
    await f.dispose();
  }
});

test('the circuit breaker: after maxFails failures upstream is not asked until failTimeout; health says circuit-open', async () => {
  const f = await fixture(1800, { breaker: { maxFails: 3, failTimeoutMs: 60_000 } });
  try {
    f.up.mode = 'fail';
    const outcomes = [];
    for (let i = 0; i < 10; i++) outcomes.push(await f.svc.prepare(STAGE, `p${i}`));
    assert.equal(f.up.asked.length, 3, `upstream asked ${f.up.asked.length} times: ${f.up.asked.map((a) => a.path).join(' ')}`);
    assert.match(String(outcomes[9]?.error), /is failing .*not asked again until/);
    const h = f.svc.health().find((m) => m.stage === STAGE);
    assert.equal(h?.state, 'circuit-open');
    assert.equal(h?.fails, 3);
    assert.match(String(h?.lastError), /503/);
    // the list obeys the same breaker
    await assert.rejects(f.svc.refreshList(STAGE), /is failing/);
    assert.equal(f.up.asked.length, 3);
  } finally {
    await f.dispose();
  }
});

test('offline: nothing is asked upstream; health says offline', async () => {
  const f = await fixture(0, { offline: true });
  try {
    f.up.pages.set('demo', ['demo-1.0.tar.gz']);
    assert.equal(f.svc.prepare(STAGE, 'demo'), undefined);
    assert.equal(f.up.asked.length, 0);
    assert.equal(f.svc.health()[0]?.state, 'offline');
  } finally {
    await f.dispose();
  }
});

test('the full project list is fetched, de-duplicated, sorted and stored as HTML and JSON pages', async () => {
  const f = await fixture(1800);
  try {
    f.up.names = ['Zeta', 'alpha', 'Alpha', 'beta.two', 'beta_two', 'gamma'];
    await f.svc.refreshList(STAGE);
    const rec = f.cl.get<MirrorListRecord>(keys.mirrorList(STAGE));
    assert.ok(rec);
    assert.equal(rec.count, 4);
    const html = await readFile(f.files.pathFor(rec.html_sha256), 'utf8');
    assert.deepEqual([...html.matchAll(/<a href="([^"]+)\/">([^<]+)<\/a>/g)].map((m) => m[2]), ['alpha', 'beta-two', 'gamma', 'zeta']);
    assert.equal(Buffer.byteLength(html), rec.html_size);
    const json = JSON.parse(await readFile(f.files.pathFor(rec.json_sha256), 'utf8')) as { meta: Record<string, string>; projects: Array<{ name: string }> };
    assert.equal(json.meta['api-version'], '1.1');
    assert.deepEqual(json.projects.map((p) => p.name), ['alpha', 'beta-two', 'gamma', 'zeta']);
    assert.equal(f.svc.health()[0]?.listCount, 4);
  } finally {
    await f.dispose();
  }
});
