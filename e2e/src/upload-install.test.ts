// Real twine uploads and real pip installs against one master: Debian's own pip/setuptools/wheel
// wheels and the fixture project's sdist + wheel go up with twine; pip installs the fixture over the
// PEP 503 HTML API and over the PEP 691 JSON API (a recording proxy proves which one it used), and
// Debian's `wheel`; the PEP 658 `.metadata` files and the PEP 691 (api-version 1.1) pages are checked.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  buildFixture, CLIENT_TEST_TIMEOUT_MS, createIndex, createUser, debianWheels, distNameVersion, fetchPage,
  fileSha256, fileSize, fixtureModule, fixtureName, fixtureVersion, htmlLinks, makeVenv, PEP691_JSON,
  pipInstall, projectJson, projectListJson, pythonEval, RecordingProxy, resolveFileUrl, sha256Hex, simpleUrl,
  twineUpload, wheelMetadata, type PipInstallResult, type RunResult,
} from './harness.js';
import { TestRoot, type WheelhouseProcess } from '@wheelhouse/testing';

const ROOT_PASSWORD = 'root-e2e-secret';
const USER = 'uploader';
const PASSWORD = 'uploader-e2e-pw';
const INDEX = `${USER}/dev`;
/** pip 23's Accept header on simple pages. */
const PIP_ACCEPT = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';

const testRoot = new TestRoot('upload-install');
let master: WheelhouseProcess | undefined;
let work = '';
const server = (): WheelhouseProcess => {
  assert.ok(master, 'the master did not start (see the before hook)');
  return master;
};
const guarded = (fn: Parameters<TestRoot['guarded']>[0]) => testRoot.guarded(fn);

before(async () => {
  master = await testRoot.startMaster('master', ROOT_PASSWORD, { logLevel: 'info' });
  work = join(testRoot.root, 'work');
  mkdirSync(work);
  await createUser(master.api.as({ user: 'root', password: ROOT_PASSWORD }), USER, PASSWORD);
  await createIndex(master.api.as({ user: USER, password: PASSWORD }), INDEX);
}, { timeout: 120_000 });

after(async () => {
  await testRoot.cleanup({ graceful: true });
});

let uploading: Promise<RunResult> | undefined;
/** Files uploaded by the first test: Debian's wheels, the fixture's sdist and wheel. */
async function uploadedFiles(): Promise<string[]> {
  const fx = await buildFixture();
  return [...debianWheels(), fx.sdist, fx.wheel];
}
function twineUploadAll(): Promise<RunResult> {
  uploading ??= (async () =>
    twineUpload({ repositoryUrl: `${server().url}/${INDEX}/`, user: USER, password: PASSWORD, files: await uploadedFiles() }))();
  return uploading;
}
async function requireUploaded(): Promise<void> {
  const r = await twineUploadAll();
  assert.equal(r.code, 0, `prerequisite twine upload failed:\n${r.describe()}`);
}

function assertAllFromServer(r: PipInstallResult, ...origins: string[]): void {
  assert.ok(r.installed.length > 0, `pip installed nothing:\n${r.describe()}`);
  for (const item of r.installed) {
    assert.ok(
      origins.some((o) => item.download_info.url.startsWith(`${o}/`)),
      `${item.metadata.name} came from ${item.download_info.url}, not from Wheelhouse (${origins.join(' or ')})`,
    );
  }
}

async function assertFixtureImports(python: string): Promise<void> {
  const r = await pythonEval(python, `import ${fixtureModule}; print(${fixtureModule}.VERSION, ${fixtureModule}.greet('e2e'))`);
  assert.equal(r.code, 0, r.describe());
  assert.equal(r.stdout.trim(), `${fixtureVersion} hello e2e from ${fixtureModule} ${fixtureVersion}`);
}

test('twine uploads Debian\'s pip/setuptools/wheel wheels and the fixture sdist + wheel', { timeout: CLIENT_TEST_TIMEOUT_MS }, guarded(async () => {
  const r = await twineUploadAll();
  assert.equal(r.code, 0, r.describe());
  const m = server();
  const { data: list } = await projectListJson(m.url, INDEX);
  const names = list.projects.map((p) => p.name);
  for (const p of ['pip', 'setuptools', 'wheel', fixtureName]) assert.ok(names.includes(p), `${p} missing from the project list: ${names.join(', ')}`);
  for (const file of await uploadedFiles()) {
    const { name } = distNameVersion(file);
    const project = name.toLowerCase().replace(/[-_.]+/g, '-');
    const { data } = await projectJson(m.url, INDEX, project);
    const entry = data.files.find((f) => f.filename === basename(file));
    assert.ok(entry, `${basename(file)} not on the ${project} page: ${data.files.map((f) => f.filename).join(', ')}`);
    assert.equal(entry.hashes['sha256'], fileSha256(file), `sha256 of ${basename(file)}`);
  }
}));

test('pip installs the fixture over the PEP 503 HTML simple API into a fresh venv, and it imports', { timeout: CLIENT_TEST_TIMEOUT_MS }, guarded(async () => {
  await requireUploaded();
  const m = server();
  // pip 23 prefers JSON; the proxy rewrites Accept to text/html so this run can only use HTML pages.
  const proxy = await RecordingProxy.start(m.port, { forceAccept: 'text/html' });
  try {
    const venv = await makeVenv(join(work, 'venv-html'));
    const r = await pipInstall(venv, { indexUrl: simpleUrl(proxy.url, INDEX), requirements: [`${fixtureName}==${fixtureVersion}`] });
    assert.equal(r.code, 0, r.describe());
    assertAllFromServer(r, proxy.url, m.url);
    const fixture = r.installed.find((i) => i.metadata.name === fixtureName);
    assert.ok(fixture, `pip report lacks ${fixtureName}: ${JSON.stringify(r.installed)}`);
    assert.match(fixture.download_info.url, /\.whl$/, 'pip should pick the wheel');
    const pages = proxy.simpleExchanges().filter((e) => e.path.includes(`/+simple/${fixtureName}`));
    assert.ok(pages.some((e) => e.status === 200), `pip did not fetch the project page through the proxy: ${JSON.stringify(proxy.exchanges)}`);
    for (const e of pages.filter((p) => p.status === 200)) {
      assert.match(e.contentType ?? '', /^text\/html/, `simple page served as ${String(e.contentType)} although Accept was text/html`);
    }
    await assertFixtureImports(venv.python);
  } finally {
    await proxy.close();
  }
}));

test('pip installs the fixture over the PEP 691 JSON simple API into a fresh venv, and it imports', { timeout: CLIENT_TEST_TIMEOUT_MS }, guarded(async () => {
  await requireUploaded();
  const m = server();
  const proxy = await RecordingProxy.start(m.port);
  try {
    const venv = await makeVenv(join(work, 'venv-json'));
    const r = await pipInstall(venv, { indexUrl: simpleUrl(proxy.url, INDEX), requirements: [`${fixtureName}==${fixtureVersion}`] });
    assert.equal(r.code, 0, r.describe());
    assertAllFromServer(r, proxy.url, m.url);
    const pages = proxy.simpleExchanges().filter((e) => e.path.includes(`/+simple/${fixtureName}`) && e.status === 200);
    assert.ok(pages.length > 0, `pip did not fetch the project page through the proxy: ${JSON.stringify(proxy.exchanges)}`);
    for (const e of pages) {
      assert.ok(e.clientAccept?.includes(PEP691_JSON), `pip did not ask for JSON: Accept ${String(e.clientAccept)}`);
      assert.ok((e.contentType ?? '').startsWith(PEP691_JSON), `pip asked for JSON but got ${String(e.contentType)}`);
    }
    await assertFixtureImports(venv.python);
  } finally {
    await proxy.close();
  }
}));

test('the simple page negotiates HTML vs PEP 691 JSON and HTML links carry hashes and metadata attributes', { timeout: 60_000 }, guarded(async () => {
  await requireUploaded();
  const m = server();
  const url = `${simpleUrl(m.url, INDEX)}${fixtureName}/`;
  const cases: Array<[string | undefined, RegExp]> = [
    [PEP691_JSON, /^application\/vnd\.pypi\.simple\.v1\+json/],
    [PIP_ACCEPT, /^application\/vnd\.pypi\.simple\.v1\+json/],
    ['text/html', /^text\/html/],
    [undefined, /^text\/html/],
  ];
  for (const [accept, expected] of cases) {
    const page = await fetchPage(url, accept);
    assert.equal(page.status, 200, `Accept ${String(accept)}: ${page.status} ${page.text.slice(0, 300)}`);
    assert.match(page.contentType, expected, `Accept ${String(accept)} → Content-Type ${page.contentType}`);
    assert.match(page.headers.get('vary') ?? '', /accept/i, 'negotiated pages must send Vary: Accept');
  }
  const html = await fetchPage(url, 'text/html');
  const fx = await buildFixture();
  const links = htmlLinks(html.text);
  for (const file of [fx.sdist, fx.wheel]) {
    const link = links.find((l) => l.text === basename(file));
    assert.ok(link, `no <a> for ${basename(file)} in:\n${html.text}`);
    assert.match(link.href, new RegExp(`#sha256=${fileSha256(file)}$`), `href of ${basename(file)}`);
    assert.equal(link.attrs['data-requires-python'], '>=3.8', `data-requires-python of ${basename(file)}`);
    const body = Buffer.from(await (await fetch(resolveFileUrl(url, link.href))).arrayBuffer());
    assert.equal(sha256Hex(body), fileSha256(file), `bytes served for ${basename(file)}`);
  }
  const wheelLink = links.find((l) => l.text === basename(fx.wheel));
  assert.ok(
    wheelLink && ('data-dist-info-metadata' in wheelLink.attrs || 'data-core-metadata' in wheelLink.attrs),
    `wheel link lacks data-dist-info-metadata / data-core-metadata: ${JSON.stringify(wheelLink)}`,
  );
}));

test('pip installs Debian\'s real `wheel` wheel from the index', { timeout: CLIENT_TEST_TIMEOUT_MS }, guarded(async () => {
  await requireUploaded();
  const m = server();
  const wheelFile = debianWheels().find((f) => basename(f).startsWith('wheel-'));
  assert.ok(wheelFile);
  const { version } = distNameVersion(wheelFile);
  const venv = await makeVenv(join(work, 'venv-wheel'));
  const r = await pipInstall(venv, { indexUrl: simpleUrl(m.url, INDEX), requirements: [`wheel==${version}`] });
  assert.equal(r.code, 0, r.describe());
  assertAllFromServer(r, m.url);
  assert.ok(r.installed.some((i) => i.metadata.name === 'wheel' && i.metadata.version === version), JSON.stringify(r.installed));
  const check = await pythonEval(venv.python, 'import wheel; print(wheel.__version__)');
  assert.equal(check.code, 0, check.describe());
  assert.equal(check.stdout.trim(), version);
}));

test('the .metadata file of every uploaded wheel equals the wheel\'s METADATA byte for byte (PEP 658)', { timeout: 120_000 }, guarded(async () => {
  await requireUploaded();
  const m = server();
  const wheels = (await uploadedFiles()).filter((f) => f.endsWith('.whl'));
  assert.equal(wheels.length, 4);
  for (const wheel of wheels) {
    const project = distNameVersion(wheel).name.toLowerCase().replace(/[-_.]+/g, '-');
    const { page, data } = await projectJson(m.url, INDEX, project);
    const entry = data.files.find((f) => f.filename === basename(wheel));
    assert.ok(entry, `${basename(wheel)} not on ${page.url}`);
    const metadataUrl = `${resolveFileUrl(page.url, entry.url)}.metadata`;
    const res = await fetch(metadataUrl, { signal: AbortSignal.timeout(30_000) });
    assert.equal(res.status, 200, `GET ${metadataUrl}: ${res.status}`);
    const served = Buffer.from(await res.arrayBuffer());
    const expected = await wheelMetadata(wheel);
    assert.ok(served.equals(expected), `${metadataUrl} differs from METADATA in ${basename(wheel)} (${served.length} vs ${expected.length} bytes)`);
    const cm = entry['core-metadata'];
    if (cm !== null && typeof cm === 'object' && cm['sha256'] !== undefined) {
      assert.equal(cm['sha256'], sha256Hex(expected), `core-metadata sha256 of ${basename(wheel)}`);
    }
  }
}));

test('the PEP 691 JSON pages are api-version 1.1 with hashes, size, upload-time, core-metadata and versions', { timeout: 60_000 }, guarded(async () => {
  await requireUploaded();
  const m = server();
  const { data: list, page: listPage } = await projectListJson(m.url, INDEX);
  assert.match(listPage.contentType, /^application\/vnd\.pypi\.simple\.v1\+json/);
  assert.equal(list.meta['api-version'], '1.1', 'project list api-version');

  const fx = await buildFixture();
  const { data, page } = await projectJson(m.url, INDEX, fixtureName);
  assert.match(page.contentType, /^application\/vnd\.pypi\.simple\.v1\+json/);
  assert.equal(data.meta['api-version'], '1.1');
  assert.equal(data.name, fixtureName);
  assert.deepEqual(data.versions, [fixtureVersion], 'versions (PEP 700)');
  assert.equal(data.files.length, 2, JSON.stringify(data.files));
  for (const file of [fx.sdist, fx.wheel]) {
    const entry = data.files.find((f) => f.filename === basename(file));
    assert.ok(entry, `${basename(file)} missing`);
    assert.equal(entry.hashes['sha256'], fileSha256(file), `hashes.sha256 of ${entry.filename}`);
    assert.equal(entry.size, fileSize(file), `size of ${entry.filename}`);
    assert.match(String(entry['upload-time']), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/, `upload-time of ${entry.filename}`);
    assert.equal(entry['requires-python'], '>=3.8', `requires-python of ${entry.filename}`);
    assert.ok(!entry.yanked, `${entry.filename} must not be yanked`);
    const body = Buffer.from(await (await fetch(resolveFileUrl(page.url, entry.url))).arrayBuffer());
    assert.equal(sha256Hex(body), fileSha256(file), `bytes behind ${entry.url}`);
  }
  const wheelEntry = data.files.find((f) => f.filename === basename(fx.wheel));
  const sdistEntry = data.files.find((f) => f.filename === basename(fx.sdist));
  const metadata = await wheelMetadata(fx.wheel);
  for (const key of ['core-metadata', 'data-dist-info-metadata'] as const) {
    const v = wheelEntry?.[key];
    assert.ok(v, `${key} missing on the wheel entry: ${JSON.stringify(wheelEntry)}`);
    if (typeof v === 'object') assert.equal(v['sha256'], sha256Hex(metadata), `${key}.sha256`);
  }
  assert.ok(!sdistEntry?.['core-metadata'], `an sdist has no core metadata file: ${JSON.stringify(sdistEntry)}`);

  // Debian's wheels: every project page carries versions and core-metadata as well.
  for (const wheel of debianWheels()) {
    const { name, version } = distNameVersion(wheel);
    const { data: d } = await projectJson(m.url, INDEX, name);
    assert.equal(d.meta['api-version'], '1.1');
    assert.ok(d.versions?.includes(version), `${name}: versions ${JSON.stringify(d.versions)}`);
    const e = d.files.find((f) => f.filename === basename(wheel));
    assert.ok(e?.['core-metadata'], `${basename(wheel)}: core-metadata ${JSON.stringify(e)}`);
    assert.equal(e.size, readFileSync(wheel).length);
  }
}));
