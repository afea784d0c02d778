// Mirror indexes end to end, on one master, every upstream a local server this file starts:
// - `wheelhouse init` makes root/pypi (a mirror of PyPI) unless `--no-root-pypi`;
// - pip installs Flask and its six dependencies through a stage inheriting root/pypi pointed at
//   the machine's local PEP 503 tree (WHEELHOUSE_TEST_PYPI_TREE, see localPypiTree()), and again from the cache with that tree stopped;
// - a file is fetched on first download (hash-checked), then served from the cache; with upstream
//   down, the expired page is still served, with a `Warning` header (devpi #925: never empty);
// - a project never fetched answers 502 naming the upstream error (refused, hanging upstream);
// - dependency confusion (devpi #451, #981): a private project shadows the mirror's higher version,
//   its name never reaches upstream, `mirror_whitelist` brings it back — on the stage and through
//   two levels of bases — and `+explain` says why;
// - the circuit breaker stops calling a failing upstream; `--offline` serves only what is cached.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CLIENT_TEST_TIMEOUT_MS, createIndex, createUser, describeResponse, fetchPage, legacyUpload, makeVenv, PEP691_JSON,
  pipDownload, pipInstall, projectJson, resultOf, run, simpleUrl, wheelhouseBin, type Credentials, type Pep691Project,
} from './harness.js';
import { buildWheel, LOCAL_PYPI_TREE_SKIP, notYet, TestRoot, waitFor, WheelhouseProcess } from '@wheelhouse/testing';
import { FakeUpstream, StaticTree, type UpstreamFile } from './local-upstream.js';

const ROOT_PASSWORD = 'root-mirror-e2e';
const ROOT: Credentials = { user: 'root', password: ROOT_PASSWORD };
const ALICE: Credentials = { user: 'alice', password: 'alice-mirror-pw' };
const FLASK_CLOSURE = ['blinker', 'click', 'flask', 'itsdangerous', 'jinja2', 'markupsafe', 'werkzeug'];

const cluster = new TestRoot('mirror');
let master: WheelhouseProcess | undefined;
/** Upstream of root/up: shadowing, whitelisting, offline. */
let upShadow: FakeUpstream | undefined;
let work = '';

const node = (): WheelhouseProcess => {
  assert.ok(master, 'the master did not start (see the before hook)');
  return master;
};
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function json(path: string, accept = PEP691_JSON): Promise<{ status: number; headers: Headers; data: Pep691Project; text: string }> {
  const page = await fetchPage(`${node().url}${path}`, accept);
  let data = {} as Pep691Project;
  try {
    data = JSON.parse(page.text) as Pep691Project;
  } catch {
    // not JSON: asserted by the caller through status/text
  }
  return { status: page.status, headers: page.headers, data, text: page.text };
}

async function mirrorIndex(name: string, mirrorUrl: string, extra: Record<string, unknown> = {}): Promise<void> {
  await createIndex(node().api.as(ROOT), `root/${name}`, { type: 'mirror', mirror_url: mirrorUrl, ...extra });
}

async function uploadPrivateWheel(index: string, project: string, version: string): Promise<Buffer> {
  // requires-python differs from the upstream's, so the bytes differ even for the same file name
  const w = buildWheel(project, version, { layout: 'module', requiresPython: '>=3.7' });
  const res = await legacyUpload(`${node().url}/${index}/`, ALICE, { path: '', name: project, version, filename: w.filename, content: w.content });
  assert.equal(res.status, 200, `upload of ${w.filename} to ${index}: ${describeResponse(res)}`);
  return w.content;
}

async function patchIndex(index: string, auth: Credentials, body: Record<string, unknown>): Promise<void> {
  const res = await node().api.as(auth).patch(`/${index}`, body);
  assert.equal(res.status, 200, `PATCH /${index} ${JSON.stringify(body)}: ${describeResponse(res)}`);
}

async function explain(index: string, project: string): Promise<Record<string, unknown>> {
  const res = await node().api.get(`/${index}/+explain/${project}`);
  assert.equal(res.status, 200, describeResponse(res));
  return resultOf(res);
}

async function mirrorHealth(stage: string): Promise<Record<string, unknown>> {
  const res = await node().api.get('/+status');
  const mirrors = resultOf<{ mirrors?: Array<Record<string, unknown>> }>(res).mirrors ?? [];
  const h = mirrors.find((m) => m['stage'] === stage);
  assert.ok(h, `/+status has no mirror ${stage}: ${res.text.slice(0, 500)}`);
  return h;
}

before(async () => {
  master = await cluster.startMaster('master', ROOT_PASSWORD);
  work = cluster.dir('work');
  mkdirSync(work, { recursive: true });
  await createUser(master.api.as(ROOT), ALICE.user, ALICE.password);
  upShadow = await FakeUpstream.start('both');
  await upShadow.addWheels('shadowpkg', ['1.0', '9.0']);
  await upShadow.addWheels('deepshadow', ['1.0', '9.0']);
  await upShadow.addWheels('public-pkg', ['1.0', '2.0']);
  await upShadow.addWheels('other-pkg', ['3.0']);
  await mirrorIndex('up', upShadow.simpleUrl);
}, { timeout: 120_000 });

after(async () => {
  await cluster.cleanup();
  await upShadow?.stop();
});

test('init creates root/pypi, a mirror of PyPI; `init --no-root-pypi` does not', { timeout: 60_000 }, cluster.guarded(async () => {
  const res = await node().api.get('/root/pypi');
  assert.equal(res.status, 200, describeResponse(res));
  const cfg = resultOf<Record<string, unknown>>(res);
  assert.equal(cfg['type'], 'mirror');
  assert.equal(cfg['mirror_url'], 'https://pypi.org/simple/');

  const datadir = cluster.dir('no-root-pypi');
  const init = await run(process.execPath, [wheelhouseBin, 'init', '--no-root-pypi', '--datadir', datadir], { timeoutMs: 60_000 });
  assert.equal(init.code, 0, init.describe());
  const bare = cluster.master('no-root-pypi', { datadir: datadir });
  await bare.start();
  try {
    const r = await bare.api.get('/root/pypi');
    assert.equal(r.status, 404, describeResponse(r));
    const rootIndexes = resultOf<{ indexes?: Record<string, unknown> }>(await bare.api.get('/root')).indexes ?? {};
    assert.deepEqual(Object.keys(rootIndexes), []);
  } finally {
    await bare.stop();
  }
}));

test('pip installs Flask and its 6 dependencies through a stage inheriting root/pypi, then again from the cache with the upstream stopped', { timeout: CLIENT_TEST_TIMEOUT_MS * 2 }, cluster.guarded(async (t: TestContext) => {
  if (!StaticTree.available()) {
    t.skip(LOCAL_PYPI_TREE_SKIP);
    return;
  }
  const tree = await StaticTree.start();
  let stopped = false;
  try {
    await patchIndex('root/pypi', ROOT, { mirror_url: tree.simpleUrl });
    await createIndex(node().api.as(ALICE), 'alice/web', { bases: ['root/pypi'] });
    const indexUrl = simpleUrl(node().url, 'alice/web');

    const venv = await makeVenv(join(work, 'venv-flask-1'));
    const r = await pipInstall(venv, { indexUrl, requirements: ['flask'] });
    assert.equal(r.code, 0, r.describe());
    assert.deepEqual(r.installed.map((i) => i.metadata.name.toLowerCase()).sort(), FLASK_CLOSURE);
    for (const item of r.installed) {
      // pip percent-encodes the '+' of '+f'
      assert.ok(decodeURIComponent(item.download_info.url).startsWith(`${node().url}/root/pypi/+f/`), `${item.metadata.name} came from ${item.download_info.url}`);
    }
    const wheelsAsked = tree.paths.filter((p) => p.startsWith('/files/'));
    assert.equal(wheelsAsked.length, FLASK_CLOSURE.length, `upstream files asked: ${wheelsAsked.join(' ')}`);
    const h = await mirrorHealth('root/pypi');
    assert.ok(Number(h['cachedProjects']) >= FLASK_CLOSURE.length, JSON.stringify(h));

    await tree.stop();
    stopped = true;
    const venv2 = await makeVenv(join(work, 'venv-flask-2'));
    const again = await pipInstall(venv2, { indexUrl, requirements: ['flask'] });
    assert.equal(again.code, 0, `with the upstream stopped: ${again.describe()}`);
    assert.deepEqual(again.installed.map((i) => i.metadata.name.toLowerCase()).sort(), FLASK_CLOSURE);
    for (const [i, item] of again.installed.entries()) {
      const first = r.installed.find((x) => x.metadata.name === item.metadata.name);
      assert.equal(item.download_info.archive_info?.hash, first?.download_info.archive_info?.hash, `${i}: same bytes as the first install`);
    }
  } finally {
    if (!stopped) await tree.stop();
  }
}));

test('a release file is fetched on first download and served from cache; with upstream down the expired page is served with a Warning header (devpi #925)', { timeout: 90_000 }, cluster.guarded(async () => {
  const up = await FakeUpstream.start('json');
  const wheel = buildWheel('stale-pkg', '1.0', { layout: 'module' });
  const old = buildWheel('stale-pkg', '0.9', { layout: 'module' });
  const files: UpstreamFile[] = [
    { filename: wheel.filename, content: wheel.content, requiresPython: '>=3.8', metadata: wheel.metadata },
    { filename: old.filename, content: old.content, yanked: 'broken metadata' },
  ];
  up.setProject('stale-pkg', files);
  let upStopped = false;
  try {
    await mirrorIndex('stale', up.simpleUrl, { mirror_cache_expiry: 1 });
    await createIndex(node().api.as(ALICE), 'alice/viastale', { bases: ['root/stale'] });

    const page = await json('/alice/viastale/+simple/stale-pkg/');
    assert.equal(page.status, 200, page.text);
    assert.equal(page.headers.get('warning'), null);
    const byName = new Map(page.data.files.map((f) => [f.filename, f]));
    const f1 = byName.get(wheel.filename);
    const f0 = byName.get(old.filename);
    assert.ok(f1 && f0, `files: ${page.text.slice(0, 800)}`);
    assert.equal(f1.hashes['sha256'], sha256(wheel.content), 'the upstream hash is kept');
    assert.equal(f1['requires-python'], '>=3.8');
    assert.deepEqual(f1['core-metadata'], { sha256: sha256(wheel.metadata) });
    assert.equal(f0.yanked, 'broken metadata');
    assert.deepEqual(page.data.versions, ['0.9', '1.0']);
    const fileUrl = new URL(f1.url, `${node().url}/alice/viastale/+simple/stale-pkg/`).toString();
    assert.ok(fileUrl.startsWith(`${node().url}/root/stale/+f/`), fileUrl);

    const first = await fetch(fileUrl);
    assert.equal(first.status, 200);
    assert.equal(sha256(Buffer.from(await first.arrayBuffer())), sha256(wheel.content));
    const metadata = await fetch(`${fileUrl}.metadata`);
    assert.equal(metadata.status, 200);
    assert.equal(Buffer.from(await metadata.arrayBuffer()).toString(), wheel.metadata.toString(), 'PEP 658 metadata through the mirror');
    const second = await fetch(fileUrl);
    assert.equal(second.status, 200);
    await second.arrayBuffer();
    assert.equal(up.fileRequests(wheel.filename), 1, 'the second download came from the cache');

    await up.stop();
    upStopped = true;
    const cached = await fetch(fileUrl);
    assert.equal(cached.status, 200, 'the cached file is served with upstream down');
    assert.equal(sha256(Buffer.from(await cached.arrayBuffer())), sha256(wheel.content));

    // the page expires after 1 s; every answer meanwhile is the full cached page, and soon one says it is stale
    const warning = await waitFor(
      async () => {
        const p = await json('/alice/viastale/+simple/stale-pkg/');
        assert.equal(p.status, 200, `upstream down, page cached: ${p.status} ${p.text.slice(0, 300)}`);
        assert.equal(p.data.files.length, 2, 'never an empty page (devpi #925)');
        const w = p.headers.get('warning');
        return w !== null ? w : notYet(`status ${p.status}, no Warning yet`);
      },
      { what: 'a stale page with a Warning header', timeoutMs: 20_000, intervalMs: 300 },
    );
    assert.match(warning, /^110 \S+ "Response is Stale: /);
    assert.match(warning, /127\.0\.0\.1/, 'the warning names the upstream');
    const html = await fetchPage(`${node().url}/alice/viastale/+simple/stale-pkg/`, 'text/html');
    assert.equal(html.status, 200);
    assert.ok(html.headers.get('warning'), 'the HTML page carries the Warning too');
    assert.ok(html.text.includes(wheel.filename));
  } finally {
    if (!upStopped) await up.stop();
  }
}));

test('a release file whose bytes do not match the upstream hash is not stored, and the client never gets a complete download', { timeout: 60_000 }, cluster.guarded(async () => {
  const up = await FakeUpstream.start('json');
  try {
    const good = buildWheel('liar-pkg', '1.0', { layout: 'module' });
    up.setProject('liar-pkg', [{ filename: good.filename, content: good.content }]);
    await mirrorIndex('liar', up.simpleUrl);
    const page = await json('/root/liar/+simple/liar-pkg/');
    assert.equal(page.status, 200, page.text);
    const f = page.data.files[0]!;
    assert.equal(f.hashes['sha256'], sha256(good.content));
    // upstream now serves other bytes under the same name (the cached page keeps the old hash)
    const evil = buildWheel('liar-pkg', '1.0', { layout: 'module', requiresPython: '>=2.7' });
    up.setProject('liar-pkg', [{ filename: good.filename, content: evil.content }]);
    const fileUrl = new URL(f.url, `${node().url}/root/liar/+simple/liar-pkg/`).toString();
    const outcome = await fetch(fileUrl).then(
      async (res) => {
        try {
          const body = Buffer.from(await res.arrayBuffer());
          return `status ${res.status}, ${body.length} bytes, sha256 ${sha256(body) === sha256(evil.content) ? 'of the wrong bytes' : 'other'}`;
        } catch (err) {
          return `aborted: ${(err as Error).message}`;
        }
      },
      (err: unknown) => `failed: ${(err as Error).message}`,
    );
    assert.ok(outcome.startsWith('aborted') || outcome.startsWith('failed') || !outcome.startsWith('status 200'), `client got a complete response: ${outcome}`);
    await fetch(fileUrl).then((r) => r.arrayBuffer()).catch(() => undefined);
    assert.equal(up.fileRequests(good.filename), 2, 'the bad bytes were not cached: asked upstream again');
    await up.stop();
    const down = await fetch(fileUrl);
    const text = await down.text();
    assert.equal(down.status, 502, `with upstream down, nothing cached: ${down.status} ${text.slice(0, 200)}`);
  } finally {
    await up.stop().catch(() => undefined);
  }
}));

test('a project never fetched answers 502 with a message naming the upstream error: refused, and an upstream that never answers', { timeout: 90_000 }, cluster.guarded(async () => {
  const gone = await FakeUpstream.start();
  const goneUrl = gone.simpleUrl;
  await gone.stop();
  await mirrorIndex('gone', goneUrl);
  const refused = await json('/root/gone/+simple/never-seen/');
  assert.equal(refused.status, 502, refused.text);
  const m1 = String((JSON.parse(refused.text) as { message?: string }).message);
  assert.match(m1, /never-seen was never fetched from http:\/\/127\.0\.0\.1:\d+\/simple\//);
  assert.match(m1, /ECONNREFUSED/);

  const hang = await FakeUpstream.start();
  hang.mode = 'hang';
  try {
    await mirrorIndex('hang', hang.simpleUrl);
    await createIndex(node().api.as(ALICE), 'alice/viahang', { bases: ['root/hang'] });
    const t0 = Date.now();
    const slow = await json('/alice/viahang/+simple/slow-pkg/');
    const took = Date.now() - t0;
    assert.equal(slow.status, 502, slow.text);
    assert.match(String((JSON.parse(slow.text) as { message?: string }).message), /slow-pkg was never fetched from .*(timeout|Timeout|TIMEOUT)/);
    assert.ok(took < 20_000, `the 502 took ${took} ms`);
    assert.equal(hang.pageRequests('slow-pkg'), 1);
  } finally {
    await hang.stop();
  }
}));

test('a private project shadows the mirror: the higher version is never offered, the name never goes upstream; mirror_whitelist brings it back (devpi #451)', { timeout: CLIENT_TEST_TIMEOUT_MS }, cluster.guarded(async () => {
  const up = upShadow!;
  await createIndex(node().api.as(ALICE), 'alice/dev', { bases: ['root/up'] });
  const privateBytes = await uploadPrivateWheel('alice/dev', 'shadowpkg', '1.0');

  for (const accept of [PEP691_JSON, 'text/html']) {
    const page = await fetchPage(`${node().url}/alice/dev/+simple/shadowpkg/`, accept);
    assert.equal(page.status, 200, page.text);
    assert.ok(!page.text.includes('9.0'), `${accept}: the mirror's 9.0 is offered:\n${page.text}`);
    assert.ok(page.text.includes('shadowpkg-1.0-py3-none-any.whl'));
  }
  const { data } = await projectJson(node().url, 'alice/dev', 'shadowpkg');
  assert.deepEqual(data.files.map((f) => f.filename), ['shadowpkg-1.0-py3-none-any.whl']);
  assert.equal(data.files[0]!.hashes['sha256'], sha256(privateBytes), 'the private file, not the mirror copy of the same name');
  assert.deepEqual(data.versions, ['1.0']);

  const dest1 = join(work, 'dl-shadow-1');
  const dl = await pipDownload({ indexUrl: simpleUrl(node().url, 'alice/dev'), requirements: ['shadowpkg'], dest: dest1, noDeps: true });
  assert.equal(dl.code, 0, dl.describe());
  assert.deepEqual(readdirSync(dest1), ['shadowpkg-1.0-py3-none-any.whl']);
  assert.equal(sha256(readFileSync(join(dest1, 'shadowpkg-1.0-py3-none-any.whl'))), sha256(privateBytes));

  // a public project on the same stage still comes from the mirror
  const pub = await projectJson(node().url, 'alice/dev', 'public-pkg');
  assert.deepEqual(pub.data.files.map((f) => f.filename).sort(), ['public_pkg-1.0-py3-none-any.whl', 'public_pkg-2.0-py3-none-any.whl']);

  assert.deepEqual(up.requestsMentioning('shadowpkg'), [], 'the private name was sent upstream');

  const why = await explain('alice/dev', 'shadowpkg');
  assert.equal(why['mirrors_allowed'], false);
  assert.equal(why['private_stage'], 'alice/dev');
  const stages = why['stages'] as Array<Record<string, unknown>>;
  assert.deepEqual(stages.map((s) => s['stage']), ['alice/dev', 'root/up']);
  assert.deepEqual(stages[0]!['files'], ['shadowpkg-1.0-py3-none-any.whl']);
  assert.match(String(stages[1]!['skipped']), /private stage alice\/dev .*mirror_whitelist/);

  await patchIndex('alice/dev', ALICE, { mirror_whitelist: ['shadowpkg'] });
  const open = await projectJson(node().url, 'alice/dev', 'shadowpkg');
  assert.deepEqual(open.data.files.map((f) => f.filename).sort(), ['shadowpkg-1.0-py3-none-any.whl', 'shadowpkg-9.0-py3-none-any.whl']);
  assert.deepEqual(open.data.versions, ['1.0', '9.0']);
  assert.equal(up.pageRequests('shadowpkg'), 1, 'whitelisted: now asked upstream');
  const dest2 = join(work, 'dl-shadow-2');
  const dl2 = await pipDownload({ indexUrl: simpleUrl(node().url, 'alice/dev'), requirements: ['shadowpkg'], dest: dest2, noDeps: true });
  assert.equal(dl2.code, 0, dl2.describe());
  assert.deepEqual(readdirSync(dest2), ['shadowpkg-9.0-py3-none-any.whl']);
  const whyOpen = await explain('alice/dev', 'shadowpkg');
  assert.equal(whyOpen['mirrors_allowed'], true);
  assert.equal(whyOpen['whitelisted_by'], 'alice/dev');
}));

test('the same through two levels of bases: intersection keeps the mirror closed until the requesting index opts in; union inherits the base whitelist (devpi #981)', { timeout: 120_000 }, cluster.guarded(async () => {
  const up = upShadow!;
  const alice = node().api.as(ALICE);
  await createIndex(alice, 'alice/base', { bases: ['root/up'] });
  await createIndex(alice, 'alice/mid', { bases: ['alice/base'] });
  await createIndex(alice, 'alice/top', { bases: ['alice/mid'] });
  await uploadPrivateWheel('alice/base', 'deepshadow', '1.0');
  const files = async (index: string): Promise<string[]> => (await projectJson(node().url, index, 'deepshadow')).data.files.map((f) => f.filename).sort();

  for (const ix of ['alice/top', 'alice/mid', 'alice/base']) assert.deepEqual(await files(ix), ['deepshadow-1.0-py3-none-any.whl'], ix);
  const closed = await explain('alice/top', 'deepshadow');
  assert.equal(closed['mirrors_allowed'], false);
  assert.equal(closed['private_stage'], 'alice/base');

  // the base whitelists it: the base sees the mirror, top (intersection, the default) still does not
  await patchIndex('alice/base', ALICE, { mirror_whitelist: ['deepshadow'] });
  assert.deepEqual(await files('alice/top'), ['deepshadow-1.0-py3-none-any.whl'], 'top, intersection');
  assert.deepEqual(await files('alice/mid'), ['deepshadow-1.0-py3-none-any.whl'], 'mid, intersection');
  assert.deepEqual(up.requestsMentioning('deepshadow'), [], 'asked upstream while no requester had it whitelisted');
  assert.deepEqual(await files('alice/base'), ['deepshadow-1.0-py3-none-any.whl', 'deepshadow-9.0-py3-none-any.whl'], 'base');

  // top inherits by union: the base's whitelist applies to it
  await patchIndex('alice/top', ALICE, { mirror_whitelist_inheritance: 'union' });
  assert.deepEqual(await files('alice/top'), ['deepshadow-1.0-py3-none-any.whl', 'deepshadow-9.0-py3-none-any.whl'], 'top, union');
  const opened = await explain('alice/top', 'deepshadow');
  assert.equal(opened['whitelisted_by'], 'alice/base');
  assert.equal(opened['mirrors_allowed'], true);
  assert.deepEqual(await files('alice/mid'), ['deepshadow-1.0-py3-none-any.whl'], 'mid is still intersection');

  // '*' on mid (intersection) opens it too
  await patchIndex('alice/mid', ALICE, { mirror_whitelist: ['*'] });
  assert.deepEqual(await files('alice/mid'), ['deepshadow-1.0-py3-none-any.whl', 'deepshadow-9.0-py3-none-any.whl'], "mid, '*'");
}));

test('the circuit breaker stops calling a failing upstream after a few failures; /+status and /+metrics show it', { timeout: 60_000 }, cluster.guarded(async () => {
  const up = await FakeUpstream.start();
  up.mode = 'fail';
  try {
    await mirrorIndex('broken', up.simpleUrl);
    const answers: number[] = [];
    for (let i = 0; i < 10; i++) answers.push((await json(`/root/broken/+simple/p${i}/`)).status);
    assert.deepEqual(answers, Array.from({ length: 10 }, () => 502));
    assert.ok(up.paths.length >= 1 && up.paths.length <= 3, `upstream called ${up.paths.length} times: ${up.paths.join(' ')}`);
    const last = await json('/root/broken/+simple/p-last/');
    assert.equal(last.status, 502);
    assert.match(String((JSON.parse(last.text) as { message?: string }).message), /is failing .*500.*not asked again until/);
    const h = await mirrorHealth('root/broken');
    assert.equal(h['state'], 'circuit-open');
    assert.match(String(h['lastError']), /500/);
    const metrics = await fetch(`${node().url}/+metrics`);
    const text = await metrics.text();
    assert.match(text, /^wheelhouse_mirrors_failing [1-9]/m);
  } finally {
    await up.stop();
  }
}));

test('`master --offline` serves only what is cached and never calls upstream', { timeout: 90_000 }, cluster.guarded(async (t: TestContext) => {
  const up = upShadow!;
  // cache a page and one of its files while online
  const pub = await projectJson(node().url, 'alice/dev', 'public-pkg');
  const [cachedFile, uncachedFile] = [...pub.data.files].sort((a, b) => a.filename.localeCompare(b.filename));
  assert.ok(cachedFile && uncachedFile);
  const base = `${node().url}/alice/dev/+simple/public-pkg/`;
  const got = await fetch(new URL(cachedFile.url, base));
  assert.equal(got.status, 200);
  await got.arrayBuffer();

  const m = node();
  await m.stop();
  const offline = cluster.master('master-offline', { datadir: m.datadir, args: ['--offline'] });
  try {
    await offline.start();
    const asked = up.paths.length;
    const page = await fetchPage(`${offline.url}/alice/dev/+simple/public-pkg/`, PEP691_JSON);
    assert.equal(page.status, 200, page.text);
    assert.equal((JSON.parse(page.text) as Pep691Project).files.length, 2);
    const f = await fetch(new URL(cachedFile.url, `${offline.url}/alice/dev/+simple/public-pkg/`));
    assert.equal(f.status, 200, 'a cached file');
    await f.arrayBuffer();
    const nf = await fetch(new URL(uncachedFile.url, `${offline.url}/alice/dev/+simple/public-pkg/`));
    const nfText = await nf.text();
    assert.equal(nf.status, 404, `a file never downloaded: ${nfText}`);
    assert.match(nfText, /not cached and the server is offline/);
    const never = await fetchPage(`${offline.url}/alice/dev/+simple/other-pkg/`, PEP691_JSON);
    assert.equal(never.status, 404, `a project upstream has but never fetched: ${never.text}`);
    assert.equal(up.paths.length, asked, `offline master called upstream: ${up.paths.slice(asked).join(' ')}`);
    const status = resultOf<{ mirrors?: Array<Record<string, unknown>> }>(await offline.api.get('/+status'));
    assert.ok((status.mirrors ?? []).every((x) => x['state'] === 'offline'), JSON.stringify(status.mirrors));
  } catch (err) {
    t.diagnostic(`--- ${offline.logPath} ---`);
    for (const line of offline.logTail(40).split('\n')) if (line.trim()) t.diagnostic(line.slice(0, 400));
    throw err;
  } finally {
    await offline.stop();
  }
}));
