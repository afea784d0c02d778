// Mirror indexes on a master and its replica, the upstream a local PEP 691 server:
// - PyPI's full project list (~880,000 names, ../shared/data/pypi-names.txt.gz) as the upstream's
//   `/simple/` page: `/root/pypi/+simple/` through the master and through the replica has every
//   name, and each node's peak RSS stays bounded (the page is streamed, never built per request);
// - a replica asked for a page or file nobody fetched yet gets it through the master (devpi #483);
// - with the master down, the replica serves the mirror pages, files and list the master cached.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createIndex, createUser, describeResponse, fetchPage, PEP691_JSON, resultOf, type Credentials, type Pep691List, type Pep691Project } from './harness.js';
import { buildWheel, notYet, TestRoot, waitFor, type WheelhouseProcess } from '@wheelhouse/testing';
import { waitConverged } from './replica-status.js';
import { FakeUpstream, normalisedNames, processMemory, PYPI_NAMES_GZ, } from './local-upstream.js';

const ROOT_PASSWORD = 'root-mirror-replica-e2e';
const ROOT: Credentials = { user: 'root', password: ROOT_PASSWORD };
const ALICE: Credentials = { user: 'alice', password: 'alice-mirror-pw' };
/** Peak RSS allowed for a node that served the full list (the list page itself is ~35 MB). */
const RSS_BOUND_BYTES = 600 * 1024 * 1024;

const cluster = new TestRoot('mirror-replica');
let master: WheelhouseProcess | undefined;
let replica: WheelhouseProcess | undefined;
let up: FakeUpstream | undefined;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const mb = (n: number): string => `${(n / 2 ** 20).toFixed(0)} MB`;

const nodes = (): { m: WheelhouseProcess; r: WheelhouseProcess; u: FakeUpstream } => {
  assert.ok(master && replica && up, 'the cluster did not start (see the before hook)');
  return { m: master, r: replica, u: up };
};

before(async () => {
  up = await FakeUpstream.start('both');
  await up.addWheels('alpha-pkg', ['1.0', '1.1']);
  await up.addWheels('beta-pkg', ['2.0']);
  await up.addWheels('gamma-pkg', ['3.0']);
  master = await cluster.startMaster('master', ROOT_PASSWORD);
  const res = await master.api.as(ROOT).patch('/root/pypi', { mirror_url: up.simpleUrl });
  assert.equal(res.status, 200, describeResponse(res));
  await createUser(master.api.as(ROOT), ALICE.user, ALICE.password);
  await createIndex(master.api.as(ALICE), 'alice/dev', { bases: ['root/pypi'] });
  await createIndex(master.api.as(ROOT), 'root/quick', { type: 'mirror', mirror_url: up.simpleUrl, mirror_cache_expiry: 1 });
  replica = await cluster.startReplica('replica', master);
}, { timeout: 120_000 });

after(async () => {
  await cluster.cleanup();
  await up?.stop();
});

/** GETs a list page and returns its names (anchors' text), time to first byte and total time. */
async function fetchList(url: string, accept: string): Promise<{ status: number; names: string[]; ttfbMs: number; totalMs: number; bytes: number; text: string }> {
  const t0 = performance.now();
  const res = await fetch(url, { headers: { Accept: accept }, signal: AbortSignal.timeout(240_000) });
  const ttfbMs = performance.now() - t0;
  const text = await res.text();
  const totalMs = performance.now() - t0;
  let names: string[] = [];
  if (res.status === 200) {
    names = accept === PEP691_JSON
      ? (JSON.parse(text) as Pep691List).projects.map((p) => p.name)
      : Array.from(text.matchAll(/<a href="[^"]*">([^<]*)<\/a>/g), (m) => m[1]!);
  }
  return { status: res.status, names, ttfbMs, totalMs, bytes: Buffer.byteLength(text), text: res.status === 200 ? '' : text };
}

function assertAllNames(got: string[], want: Set<string>, where: string): void {
  assert.equal(got.length, want.size, `${where}: ${got.length} names, ${want.size} expected`);
  const seen = new Set(got);
  assert.equal(seen.size, got.length, `${where}: duplicate names`);
  let missing = 0;
  const examples: string[] = [];
  for (const n of want) {
    if (!seen.has(n)) {
      missing++;
      if (examples.length < 5) examples.push(n);
    }
  }
  assert.equal(missing, 0, `${where}: ${missing} names missing, e.g. ${examples.join(', ')}`);
}

test('the ~880,000-name project list is served by master and replica, complete, with bounded memory', { timeout: 300_000 }, cluster.guarded(async (t: TestContext) => {
  if (!existsSync(PYPI_NAMES_GZ)) {
    t.skip(`${PYPI_NAMES_GZ} is absent`);
    return;
  }
  const { m, r, u } = nodes();
  u.list = { kind: 'names-file', path: PYPI_NAMES_GZ };
  const want = await normalisedNames(PYPI_NAMES_GZ);
  assert.ok(want.size > 800_000, `${want.size} names`);

  const viaMaster = await fetchList(`${m.url}/root/pypi/+simple/`, 'text/html');
  assert.equal(viaMaster.status, 200, viaMaster.text);
  assertAllNames(viaMaster.names, want, 'master, HTML');
  const masterJson = await fetchList(`${m.url}/root/pypi/+simple/`, PEP691_JSON);
  assert.equal(masterJson.status, 200, masterJson.text);
  assertAllNames(masterJson.names, want, 'master, JSON');
  // cached: served from the stored page, no second upstream fetch
  const again = await fetchList(`${m.url}/root/pypi/+simple/`, 'text/html');
  assert.equal(again.names.length, want.size);
  assert.equal(u.paths.filter((p) => p === '/simple/').length, 1, 'the list was fetched from upstream once');

  const viaReplica = await fetchList(`${r.url}/root/pypi/+simple/`, 'text/html');
  assert.equal(viaReplica.status, 200, viaReplica.text);
  assertAllNames(viaReplica.names, want, 'replica, HTML');
  await waitConverged(m, [r], 120_000);
  const replicaJson = await fetchList(`${r.url}/root/pypi/+simple/`, PEP691_JSON);
  assertAllNames(replicaJson.names, want, 'replica, JSON (from its replicated copy)');

  const mm = processMemory(m.pid);
  const rm = processMemory(r.pid);
  assert.ok(mm && rm, 'no /proc/PID/status');
  t.diagnostic(
    `full list: ${want.size} names, HTML ${mb(viaMaster.bytes)}; master first fetch (upstream + store + serve) ttfb ${viaMaster.ttfbMs.toFixed(0)} ms, total ${viaMaster.totalMs.toFixed(0)} ms; ` +
      `cached ttfb ${again.ttfbMs.toFixed(0)} ms, total ${again.totalMs.toFixed(0)} ms; replica first ttfb ${viaReplica.ttfbMs.toFixed(0)} ms, total ${viaReplica.totalMs.toFixed(0)} ms`,
  );
  t.diagnostic(`peak RSS (VmHWM): master ${mb(mm.peak)} (now ${mb(mm.rss)}), replica ${mb(rm.peak)} (now ${mb(rm.rss)})`);
  assert.ok(mm.peak < RSS_BOUND_BYTES, `master peak RSS ${mb(mm.peak)} ≥ ${mb(RSS_BOUND_BYTES)}`);
  assert.ok(rm.peak < RSS_BOUND_BYTES, `replica peak RSS ${mb(rm.peak)} ≥ ${mb(RSS_BOUND_BYTES)}`);

  // serving it ten times more, in parallel, does not grow memory by a page per request
  const before = processMemory(m.pid)!.rss;
  const many = await Promise.all(Array.from({ length: 10 }, () => fetchList(`${m.url}/root/pypi/+simple/`, 'text/html')));
  assert.ok(many.every((x) => x.names.length === want.size));
  const after = processMemory(m.pid)!;
  t.diagnostic(`10 parallel list requests: master RSS ${mb(before)} → ${mb(after.rss)}, peak ${mb(after.peak)}`);
  assert.ok(after.peak < RSS_BOUND_BYTES, `master peak RSS after 10 parallel lists ${mb(after.peak)}`);
}));

test('a replica asked for a mirror page and file nobody fetched gets them through the master (devpi #483)', { timeout: 120_000 }, cluster.guarded(async () => {
  const { m, r, u } = nodes();
  const page = await fetchPage(`${r.url}/alice/dev/+simple/alpha-pkg/`, PEP691_JSON);
  assert.equal(page.status, 200, page.text);
  const data = JSON.parse(page.text) as Pep691Project;
  assert.deepEqual(data.files.map((f) => f.filename).sort(), ['alpha_pkg-1.0-py3-none-any.whl', 'alpha_pkg-1.1-py3-none-any.whl']);
  assert.equal(u.pageRequests('alpha-pkg'), 1);
  const wheel = buildWheel('alpha-pkg', '1.1', { layout: 'module' });
  const f = data.files.find((x) => x.filename === wheel.filename)!;
  const res = await fetch(new URL(f.url, page.url));
  assert.equal(res.status, 200);
  assert.equal(sha256(Buffer.from(await res.arrayBuffer())), sha256(wheel.content));
  assert.equal(u.fileRequests(wheel.filename), 1);
  // the master has it now, and the replica's state follows
  const onMaster = await fetch(new URL(f.url, `${m.url}/alice/dev/+simple/alpha-pkg/`));
  assert.equal(onMaster.status, 200);
  await onMaster.arrayBuffer();
  assert.equal(u.fileRequests(wheel.filename), 1, 'the master served its cached copy');
  await waitConverged(m, [r], 60_000);
}));

test('with the master down, the replica serves the mirror pages, files and list the master cached', { timeout: 120_000 }, cluster.guarded(async () => {
  const { m, r, u } = nodes();
  // the master caches beta-pkg's page and file; the replica only replicates them
  const page = await fetchPage(`${m.url}/root/pypi/+simple/beta-pkg/`, PEP691_JSON);
  assert.equal(page.status, 200, page.text);
  const file = (JSON.parse(page.text) as Pep691Project).files[0]!;
  const fileRes = await fetch(new URL(file.url, page.url));
  assert.equal(fileRes.status, 200);
  const bytes = Buffer.from(await fileRes.arrayBuffer());
  const quick = await fetchPage(`${m.url}/root/quick/+simple/beta-pkg/`, PEP691_JSON);
  assert.equal(quick.status, 200, quick.text);
  await waitConverged(m, [r], 60_000);
  const listCached = resultOf<{ mirrors?: Array<Record<string, unknown>> }>(await m.api.get('/+status')).mirrors?.find((x) => x['stage'] === 'root/pypi')?.['listCount'];

  await m.stop();
  const asked = u.paths.length;
  for (const path of ['/alice/dev/+simple/beta-pkg/', '/root/pypi/+simple/beta-pkg/']) {
    const p = await fetchPage(`${r.url}${path}`, PEP691_JSON);
    assert.equal(p.status, 200, `${path}: ${p.text}`);
    const files = (JSON.parse(p.text) as Pep691Project).files;
    assert.deepEqual(files.map((x) => x.filename), [file.filename], path);
    const got = await fetch(new URL(files[0]!.url, p.url));
    assert.equal(got.status, 200, `${path}: the file`);
    assert.equal(sha256(Buffer.from(await got.arrayBuffer())), sha256(bytes));
  }
  const alpha = await fetchPage(`${r.url}/alice/dev/+simple/alpha-pkg/`, 'text/html');
  assert.equal(alpha.status, 200, 'the page the replica asked the master for earlier');
  assert.ok(alpha.text.includes('alpha_pkg-1.1-py3-none-any.whl'));

  assert.equal(typeof listCached, 'number', 'the master cached the full list (first test)');
  {
    const list = await fetchList(`${r.url}/root/pypi/+simple/`, PEP691_JSON);
    assert.equal(list.status, 200, list.text);
    assert.equal(list.names.length, listCached, 'the replicated full list');
  }

  const never = await fetchPage(`${r.url}/alice/dev/+simple/gamma-pkg/`, PEP691_JSON);
  assert.equal(never.status, 502, never.text);
  assert.match(never.text, /gamma-pkg is not cached on this replica and the master is unreachable/);
  assert.equal(u.paths.length, asked, 'the replica never calls upstream itself');
}));

test(
  'with the master down, an expired mirror page on the replica is served with a Warning header (devpi #925, as on the master)',
  {
    timeout: 60_000,
  },
  cluster.guarded(async () => {
    const { r } = nodes();
    assert.equal(master?.running, false, 'runs after the master was stopped');
    const outcome = await waitFor(
      async () => {
        const p = await fetchPage(`${r.url}/root/quick/+simple/beta-pkg/`, PEP691_JSON);
        assert.equal(p.status, 200, p.text);
        assert.equal((JSON.parse(p.text) as Pep691Project).files.length, 1, 'never an empty page');
        const w = p.headers.get('warning');
        return w !== null ? w : notYet('no Warning header');
      },
      { what: 'a Warning header on the replica', timeoutMs: 8_000, intervalMs: 300 },
    );
    assert.match(outcome, /^110 /);
  }),
);
