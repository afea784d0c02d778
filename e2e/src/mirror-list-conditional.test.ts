// Regression (issue 10): with `root/pypi` pointed at an upstream, `GET /root/pypi/+simple/` then
// `HEAD /root/pypi/+simple/` (or a revalidating GET answered 304) made the master exit with
// ERR_HTTP_HEADERS_SENT: mirror-service set `Cache-Control` after `sendStoredFile` had already
// ended the response, inside an unguarded `void (async () => …)()`. The replica served the same
// mutable list page as `public, max-age=31536000, immutable`. Pinned here: GET, HEAD and conditional
// GETs (If-None-Match, If-Modified-Since) of the list on master and replica answer 200/304 with
// `max-age=0, must-revalidate`, and both processes are still alive afterwards.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeResponse, PEP691_JSON, type Credentials } from './harness.js';
import { TestRoot, buildWheel, type WheelhouseProcess } from '@wheelhouse/testing';
import { waitConverged } from './replica-status.js';
import { FakeUpstream } from './local-upstream.js';

const ROOT_PASSWORD = 'root-mirror-list-conditional';
const ROOT: Credentials = { user: 'root', password: ROOT_PASSWORD };
const LIST = '/root/pypi/+simple/';
const REVALIDATE = 'max-age=0, must-revalidate';

const cluster = new TestRoot('mirror-list-conditional');
let master: WheelhouseProcess | undefined;
let replica: WheelhouseProcess | undefined;
let up: FakeUpstream | undefined;

before(async () => {
  up = await FakeUpstream.start('both');
  await up.addWheels('alpha-pkg', ['1.0']);
  await up.addWheels('beta-pkg', ['2.0']);
  master = await cluster.startMaster('master', ROOT_PASSWORD);
  const res = await master.api.as(ROOT).patch('/root/pypi', { mirror_url: up.simpleUrl });
  assert.equal(res.status, 200, describeResponse(res));
  replica = await cluster.startReplica('replica', master);
}, { timeout: 120_000 });

after(async () => {
  await cluster.cleanup();
  await up?.stop();
});

async function send(node: WheelhouseProcess, method: 'GET' | 'HEAD', headers: Record<string, string> = {}): Promise<Response> {
  const res = await fetch(`${node.url}${LIST}`, { method, headers, signal: AbortSignal.timeout(30_000) });
  await res.arrayBuffer();
  return res;
}

/** GET, HEAD, then the conditional requests a cache sends; every answer revalidates, none is immutable. */
async function conditionalRound(node: WheelhouseProcess, accept: string): Promise<void> {
  const first = await send(node, 'GET', { Accept: accept });
  assert.equal(first.status, 200, `${node.name} GET ${LIST}`);
  const etag = first.headers.get('etag');
  const lastModified = first.headers.get('last-modified');
  assert.ok(etag, `${node.name}: the list page has an ETag`);
  assert.ok(lastModified, `${node.name}: the list page has a Last-Modified`);
  assert.equal(first.headers.get('cache-control'), REVALIDATE, `${node.name} GET: the list is mutable`);

  const head = await send(node, 'HEAD', { Accept: accept });
  assert.equal(head.status, 200, `${node.name} HEAD`);
  assert.equal(head.headers.get('cache-control'), REVALIDATE, `${node.name} HEAD`);
  assert.equal(head.headers.get('etag'), etag);

  for (const [what, method, headers] of [
    ['If-None-Match', 'GET', { 'If-None-Match': etag }],
    ['If-None-Match on HEAD', 'HEAD', { 'If-None-Match': etag }],
    ['If-None-Match: *', 'GET', { 'If-None-Match': '*' }],
    ['If-Modified-Since', 'GET', { 'If-Modified-Since': lastModified }],
  ] as const) {
    const res = await send(node, method, { Accept: accept, ...headers });
    assert.equal(res.status, 304, `${node.name} ${method} with ${what}`);
    assert.equal(res.headers.get('cache-control'), REVALIDATE, `${node.name} ${method} with ${what}`);
  }
  const changed = await send(node, 'GET', { Accept: accept, 'If-None-Match': '"not-this-one"' });
  assert.equal(changed.status, 200, `${node.name}: another ETag gets the page`);
}

async function assertAlive(node: WheelhouseProcess): Promise<void> {
  assert.ok(node.running, `${node.name} still runs (${String(node.unexpectedExit)})\n${node.logTail(30)}`);
  const status = await fetch(`${node.url}/+status`, { headers: { Accept: 'application/json' } });
  assert.equal(status.status, 200, `${node.name} answers /+status`);
}

test('master: GET, HEAD and conditional GETs of a mirror list page answer 200/304 and the master lives', async () => {
  assert.ok(master, 'the cluster did not start');
  await conditionalRound(master, 'text/html');
  await conditionalRound(master, PEP691_JSON);
  await assertAlive(master);
});

test('replica: the same list page, revalidated (never immutable), and the replica lives', async () => {
  assert.ok(master && replica, 'the cluster did not start');
  await waitConverged(master, [replica], 60_000);
  await conditionalRound(replica, 'text/html');
  await conditionalRound(replica, PEP691_JSON);
  await assertAlive(replica);
  await assertAlive(master);
});
