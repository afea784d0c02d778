// issue 11: two anonymous requests that made a node answer 5xx turned off everyone's writes — the
// proxy ejected a backend after two consecutive 5xx answers (270 of 292 legitimate writes got 503
// in a 30 s attack), and a replica's deliberate 502 for a failing mirror upstream ejected it and
// was replaced by the proxy's "no backend can serve this read now". An answer is not a failure
// (STYLE #20): through the proxy of a LoopbackCluster, a writer uploads every 100 ms while an
// attacker makes the nodes answer 5xx (a mirror whose upstream answers 500, so the node answers
// 502; and the malformed percent-encoding that made the master answer 500). Zero legitimate writes
// may be refused, no backend ejected, and the client sees the node's own 502 message.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, createIndex, createUser, describeResponse, legacyUpload } from './harness.js';
import { FakeUpstream } from './local-upstream.js';
import { buildSdist, LoopbackCluster, withClusterLogs } from '@wheelhouse/testing';

const ROOT_PASSWORD = 'anf-root-secret';
const USER = 'anf';
const PASSWORD = 'anf-e2e-pw';
const INDEX = `${USER}/dev`;
const PROJECT = 'wh-anf-demo';
const ATTACK_MS = 12_000;

let cluster: LoopbackCluster | undefined;
let upstream: FakeUpstream | undefined;
let failed = false;
const guarded = (fn: (t: import('node:test').TestContext) => Promise<void>) => withClusterLogs(() => cluster, () => (failed = true), fn);

before(async () => {
  upstream = await FakeUpstream.start();
  upstream.mode = 'fail'; // every upstream request answers 500
  cluster = await LoopbackCluster.start({ label: 'answers-not-failures', rootPassword: ROOT_PASSWORD });
  const viaProxy = new ApiClient(cluster.proxy.url);
  const root = viaProxy.as({ user: 'root', password: ROOT_PASSWORD });
  await createUser(root, USER, PASSWORD);
  await createIndex(viaProxy.as({ user: USER, password: PASSWORD }), INDEX);
  await createIndex(root, 'root/failing', { type: 'mirror', mirror_url: upstream.simpleUrl });
}, { timeout: 180_000 });

after(async () => {
  await cluster?.stop(failed);
  await upstream?.stop();
});

interface Backend {
  name: string;
  usable: boolean;
  ejections: number;
}

async function backends(proxyUrl: string): Promise<Backend[]> {
  const res = await fetch(`${proxyUrl}/+status`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
  return ((await res.json()) as { result: { backends: Backend[] } }).result.backends;
}

test('an attacker making nodes answer 5xx refuses no legitimate write and ejects no backend; the client sees the node\'s 502', { timeout: 240_000 }, guarded(async (t) => {
  const c = cluster!;
  const owner = { user: USER, password: PASSWORD };
  const until = Date.now() + ATTACK_MS;
  const attackStatuses = new Map<string, number>();
  const mirrorAnswers: Array<{ status: number; message: string }> = [];

  const attacker = (async () => {
    for (let i = 0; Date.now() < until; i++) {
      // a never-fetched page of a mirror whose upstream fails: the node answers 502
      const page = await fetch(`${c.proxy.url}/root/failing/+simple/attack-${i}/`, { headers: { accept: 'application/vnd.pypi.simple.v1+json' }, signal: AbortSignal.timeout(30_000) });
      const text = await page.text();
      let message = '';
      try {
        message = String((JSON.parse(text) as { message?: unknown }).message ?? '');
      } catch {
        message = text.slice(0, 200);
      }
      mirrorAnswers.push({ status: page.status, message });
      // the malformed percent-encoding that made the master answer 500 (whatever it answers now)
      const bad = await fetch(`${c.proxy.url}/${INDEX}/+simple/%zz/`, { signal: AbortSignal.timeout(30_000) });
      await bad.arrayBuffer();
      const key = `${bad.status}`;
      attackStatuses.set(key, (attackStatuses.get(key) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();

  let writes = 0;
  const refused: string[] = [];
  for (let i = 0; Date.now() < until; i++) {
    const version = `1.0.${i}`;
    const sdist = buildSdist(PROJECT, version);
    const up = await legacyUpload(`${c.proxy.url}/${INDEX}/`, owner, { path: sdist.filename, filename: sdist.filename, content: sdist.content, name: PROJECT, version });
    writes++;
    if (up.status !== 200) refused.push(`${version}: ${describeResponse(up)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await attacker;

  t.diagnostic(`legitimate writes: ${writes}, refused: ${refused.length}; mirror attack requests: ${mirrorAnswers.length}; bad-encoding answers: ${JSON.stringify(Object.fromEntries(attackStatuses))}`);
  assert.ok(writes >= 10, `only ${writes} writes in ${ATTACK_MS} ms`);
  assert.ok(mirrorAnswers.length >= 5, `only ${mirrorAnswers.length} attack requests`);
  assert.deepEqual(refused, [], 'no legitimate write refused');
  for (const a of mirrorAnswers) {
    assert.equal(a.status, 502, `the node's 502 reaches the client: ${JSON.stringify(a)}`);
    assert.doesNotMatch(a.message, /no backend can serve/, "the node's message, not the proxy's");
    assert.ok(a.message.length > 0);
  }
  const list = await backends(c.proxy.url);
  for (const b of list) {
    assert.equal(b.ejections, 0, `${b.name} was ejected: ${JSON.stringify(b)}`);
    assert.equal(b.usable, true, `${b.name} is not usable: ${JSON.stringify(b)}`);
  }
}));
