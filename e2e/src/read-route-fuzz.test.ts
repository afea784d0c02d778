// Every read route of a populated master and its replica, asked as a client or a cache asks it:
// GET, HEAD, `If-None-Match: *`, `If-None-Match: <its real ETag>` and `If-Modified-Since`. No answer
// may be a 500 and both processes must still be alive afterwards — the defect of issue 10 (a HEAD
// of a mirror list page killed the master with ERR_HTTP_HEADERS_SENT) was one such request.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { authHeaders, describeResponse, multipartBody, PEP691_JSON, resultOf, type Credentials } from './harness.js';
import { TestRoot, buildWheel, storedZip, type WheelhouseProcess } from '@wheelhouse/testing';
import { waitConverged } from './replica-status.js';
import { FakeUpstream } from './local-upstream.js';

const ROOT_PASSWORD = 'root-read-route-fuzz';
const ROOT: Credentials = { user: 'root', password: ROOT_PASSWORD };
const DORA: Credentials = { user: 'dora', password: 'dora-read-route-fuzz' };
const INDEX = 'dora/dev';

const cluster = new TestRoot('read-route-fuzz');
let master: WheelhouseProcess | undefined;
let replica: WheelhouseProcess | undefined;
let up: FakeUpstream | undefined;
/** Paths (with the Accept each is asked with) gathered once the nodes are populated. */
const routes: Array<{ path: string; accept: string }> = [];

async function upload(node: WheelhouseProcess, fields: Array<readonly [string, string]>, filename: string, content: Uint8Array): Promise<void> {
  const { contentType, body } = multipartBody(fields, { filename, content });
  const res = await fetch(`${node.url}/${INDEX}/`, { method: 'POST', headers: { 'Content-Type': contentType, ...authHeaders(DORA) }, body });
  assert.equal(res.status, 200, `upload of ${filename}: ${res.status} ${await res.text()}`);
}

/** The `+f` URLs a simple page (JSON) links, made absolute against `base`. */
async function fileLinks(node: WheelhouseProcess, path: string): Promise<string[]> {
  const res = await fetch(`${node.url}${path}`, { headers: { Accept: PEP691_JSON } });
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  const page = (await res.json()) as { files: Array<{ url: string }> };
  return page.files.map((f) => new URL(f.url, `${node.url}${path}`).pathname);
}

before(async () => {
  up = await FakeUpstream.start('both');
  await up.addWheels('alpha-pkg', ['1.0']);
  master = await cluster.startMaster('master', ROOT_PASSWORD);
  const pypi = await master.api.as(ROOT).patch('/root/pypi', { mirror_url: up.simpleUrl });
  assert.equal(pypi.status, 200, describeResponse(pypi));
  const user = await master.api.put(`/${DORA.user}`, { password: DORA.password, email: 'dora@example.invalid' });
  assert.equal(user.status, 201, describeResponse(user));
  const ix = await master.api.as(DORA).put(`/${INDEX}`, { bases: ['root/pypi'], volatile: true });
  assert.ok(ix.status === 200 || ix.status === 201, describeResponse(ix));
  const wheel = buildWheel('inkpot', '1.0', { layout: 'module' });
  await upload(master, [
    [':action', 'file_upload'], ['protocol_version', '1'], ['metadata_version', '2.1'], ['name', 'inkpot'], ['version', '1.0'],
    ['summary', 'Holds ink'], ['description', '# Inkpot\n\nHolds ink.'], ['description_content_type', 'text/markdown'],
    ['filetype', 'bdist_wheel'], ['pyversion', 'py3'], ['requires_python', '>=3.8'],
  ], wheel.filename, wheel.content);
  const docs = storedZip([{ name: 'index.html', data: Buffer.from('<!DOCTYPE html><title>Inkpot docs</title><h1>Inkpot</h1>') }]);
  await upload(master, [[':action', 'doc_upload'], ['name', 'inkpot'], ['version', '1.0']], 'inkpot-1.0.doc.zip', docs);
  replica = await cluster.startReplica('replica', master);

  const json = 'application/json';
  const html = 'text/html';
  for (const [path, accept] of [
    ['/root/pypi/+simple/', html], ['/root/pypi/+simple/', PEP691_JSON],
    ['/root/pypi/+simple/alpha-pkg/', html], ['/root/pypi/+simple/alpha-pkg/', PEP691_JSON],
    [`/${INDEX}/+simple/`, html], [`/${INDEX}/+simple/`, PEP691_JSON],
    [`/${INDEX}/+simple/inkpot/`, html], [`/${INDEX}/+simple/inkpot/`, PEP691_JSON],
    [`/${INDEX}/+simple/alpha-pkg/`, PEP691_JSON], [`/${INDEX}/+simple/no-such-project/`, html],
    [`/${INDEX}/+simple/InkPot`, html],
    ['/', json], ['/dora', json], [`/${INDEX}`, json], [`/${INDEX}/inkpot`, json], [`/${INDEX}/inkpot/1.0`, json],
    ['/root/pypi', json], ['/root/pypi/alpha-pkg', json],
    ['/+api', json], [`/${INDEX}/+api`, json], ['/+status', json], ['/+ready', json],
    ['/', html], ['/dora', html], [`/${INDEX}`, html], [`/${INDEX}/inkpot`, html], [`/${INDEX}/inkpot/1.0`, html],
    ['/+status', html], ['/+search?q=ink', html], ['/root/pypi', html],
    [`/${INDEX}/inkpot/1.0/+doc/`, html], [`/${INDEX}/inkpot/1.0/+doc/index.html`, html], [`/${INDEX}/inkpot/9.9/+doc/`, html],
    [`/${INDEX}/+f/aaa/bbbbbbbbbbbbb/missing-1.0.tar.gz`, '*/*'],
  ] as const) routes.push({ path, accept });
  for (const base of [`/${INDEX}/+simple/inkpot/`, '/root/pypi/+simple/alpha-pkg/']) {
    for (const file of await fileLinks(master, base)) {
      routes.push({ path: file, accept: '*/*' }, { path: `${file}.metadata`, accept: '*/*' }, { path: file, accept: 'application/json' });
    }
  }
  await waitConverged(master, [replica], 60_000);
}, { timeout: 120_000 });

after(async () => {
  await cluster.cleanup();
  await up?.stop();
});

/** Asks every route in every variant; returns the answers that were a 500. */
async function fuzz(node: WheelhouseProcess): Promise<string[]> {
  const failures: string[] = [];
  const ask = async (method: 'GET' | 'HEAD', path: string, headers: Record<string, string>): Promise<Response> => {
    const res = await fetch(`${node.url}${path}`, { method, headers, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
    const body = await res.text();
    if (res.status === 500) failures.push(`${node.name} ${method} ${path} ${JSON.stringify(headers)} → 500 ${body.slice(0, 200)}`);
    return res;
  };
  for (const { path, accept } of routes) {
    const first = await ask('GET', path, { Accept: accept });
    const etag = first.headers.get('etag');
    const modified = first.headers.get('last-modified') ?? new Date().toUTCString();
    await ask('HEAD', path, { Accept: accept });
    await ask('GET', path, { Accept: accept, 'If-None-Match': '*' });
    await ask('HEAD', path, { Accept: accept, 'If-None-Match': '*' });
    if (etag) {
      await ask('GET', path, { Accept: accept, 'If-None-Match': etag });
      await ask('HEAD', path, { Accept: accept, 'If-None-Match': etag });
    }
    await ask('GET', path, { Accept: accept, 'If-Modified-Since': modified });
    await ask('HEAD', path, { Accept: accept, 'If-Modified-Since': modified });
    await ask('GET', path, { Accept: accept, Range: 'bytes=0-0' });
  }
  return failures;
}

function assertAlive(node: WheelhouseProcess): void {
  assert.ok(node.running, `${node.name} still runs (${String(node.unexpectedExit)})\n${node.logTail(30)}`);
}

test('master: no read route answers 500 to GET, HEAD or conditional requests, and the master lives', { timeout: 180_000 }, async () => {
  assert.ok(master, 'the cluster did not start');
  assert.ok(routes.length > 30, `${routes.length} routes gathered`);
  const failures = await fuzz(master);
  assert.deepEqual(failures, []);
  assertAlive(master);
  const status = await master.api.get('/+status');
  assert.equal(status.status, 200);
  assert.equal(resultOf<{ role: string }>(status).role, 'MASTER');
});

test('replica: the same routes, no 500, and replica and master live', { timeout: 180_000 }, async () => {
  assert.ok(master && replica, 'the cluster did not start');
  const failures = await fuzz(replica);
  assert.deepEqual(failures, []);
  assertAlive(replica);
  assertAlive(master);
});
