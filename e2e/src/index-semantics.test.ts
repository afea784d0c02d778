// Index semantics with real clients: inheritance through `bases`, non-volatile conflicts, push
// (POST and devpi-client's raw `PUSH` method), upload rights (401 with WWW-Authenticate / 403), and
// deletes refused on a non-volatile index without ?force.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  alteredWheelCopy, buildFixture, CLIENT_TEST_TIMEOUT_MS, createIndex, createUser, describeResponse, fileSha256,
  fixtureModule, fixtureName, fixtureVersion, legacyUpload, makeVenv, messageOf, pipInstall,
  projectJson, pythonEval, rawExchange, requestHead, resolveFileUrl, sha256Hex, simpleUrl, storeSnapshot, twineUpload, type ApiResponse, type RunResult, type Venv,
} from './harness.js';
import { TestRoot, type WheelhouseProcess } from '@wheelhouse/testing';

const ROOT_PASSWORD = 'root-e2e-secret';
const ALICE = { user: 'alice', password: 'alice-e2e-pw' } as const;
const BOB = { user: 'bob', password: 'bob-e2e-pw' } as const;
const BASE = 'alice/base'; // the fixture is uploaded here
const CHILD = 'alice/child'; // bases: [alice/base]
const TARGET = 'alice/target'; // POST push target
const PUSHED = 'alice/pushed'; // raw PUSH target
const STABLE = 'alice/stable'; // non-volatile: conflicts
const KEEP = 'alice/keep'; // non-volatile: deletes

const testRoot = new TestRoot('index-semantics');
let master: WheelhouseProcess | undefined;
let work = '';
const guarded = (fn: Parameters<TestRoot['guarded']>[0]) => testRoot.guarded(fn);
const server = (): WheelhouseProcess => {
  assert.ok(master, 'the master did not start (see the before hook)');
  return master;
};

before(async () => {
  master = await testRoot.startMaster('master', ROOT_PASSWORD, { logLevel: 'info' });
  work = join(testRoot.root, 'work');
  mkdirSync(work);
  const root = master.api.as({ user: 'root', password: ROOT_PASSWORD });
  await createUser(root, ALICE.user, ALICE.password);
  await createUser(root, BOB.user, BOB.password);
  const alice = master.api.as(ALICE);
  await createIndex(alice, BASE);
  await createIndex(alice, CHILD, { bases: [BASE] });
  await createIndex(alice, TARGET);
  await createIndex(alice, PUSHED);
  await createIndex(alice, STABLE, { volatile: false });
  await createIndex(alice, KEEP, { volatile: false });
}, { timeout: 120_000 });

after(async () => {
  await testRoot.cleanup({ graceful: true });
});

let uploading: Promise<RunResult> | undefined;
/** The fixture's sdist and wheel uploaded to alice/base with twine, once. */
async function requireBaseUpload(): Promise<void> {
  uploading ??= (async () => {
    const fx = await buildFixture();
    return twineUpload({ repositoryUrl: `${server().url}/${BASE}/`, user: ALICE.user, password: ALICE.password, files: [fx.sdist, fx.wheel] });
  })();
  const r = await uploading;
  assert.equal(r.code, 0, `prerequisite twine upload to ${BASE} failed:\n${r.describe()}`);
}

async function installFixture(index: string, venvName: string): Promise<Venv> {
  const m = server();
  const venv = await makeVenv(join(work, venvName));
  const r = await pipInstall(venv, { indexUrl: simpleUrl(m.url, index), requirements: [`${fixtureName}==${fixtureVersion}`] });
  assert.equal(r.code, 0, r.describe());
  for (const item of r.installed) assert.ok(item.download_info.url.startsWith(`${m.url}/`), `${item.metadata.name} from ${item.download_info.url}`);
  const check = await pythonEval(venv.python, `import ${fixtureModule}; print(${fixtureModule}.VERSION)`);
  assert.equal(check.code, 0, check.describe());
  assert.equal(check.stdout.trim(), fixtureVersion);
  return venv;
}

/** The upload error message twine prints: the HTTP reason phrase when it is more than the standard one. */
function reasonMessage(res: ApiResponse): string | undefined {
  const reason = res.statusText.trim();
  return reason && reason !== STATUS_CODES[res.status] ? reason : undefined;
}

async function fixtureFileHashes(index: string): Promise<Record<string, string>> {
  const { data } = await projectJson(server().url, index, fixtureName);
  return Object.fromEntries(data.files.map((f) => [f.filename, f.hashes['sha256'] ?? '']));
}

test('inheritance: pip installs from a child index a release uploaded only to its base', { timeout: CLIENT_TEST_TIMEOUT_MS }, guarded(async () => {
  await requireBaseUpload();
  const fx = await buildFixture();
  assert.deepEqual(await fixtureFileHashes(CHILD), {
    [basename(fx.sdist)]: fileSha256(fx.sdist),
    [basename(fx.wheel)]: fileSha256(fx.wheel),
  }, `the child's simple page should show the base's files`);
  await installFixture(CHILD, 'venv-child');
}));

test('non-volatile index: re-upload of the identical file is 200, of different content under the same name 409', { timeout: CLIENT_TEST_TIMEOUT_MS }, guarded(async () => {
  const m = server();
  const fx = await buildFixture();
  const url = `${m.url}/${STABLE}/`;
  const password = ALICE.password;
  const first = await twineUpload({ repositoryUrl: url, user: ALICE.user, password, files: [fx.wheel] });
  assert.equal(first.code, 0, first.describe());
  const again = await twineUpload({ repositoryUrl: url, user: ALICE.user, password, files: [fx.wheel] });
  assert.equal(again.code, 0, `twine re-upload of the identical file must succeed:\n${again.describe()}`);
  const identical = await legacyUpload(url, ALICE, { path: fx.wheel, name: fixtureName, version: fixtureVersion });
  assert.equal(identical.status, 200, describeResponse(identical));

  const altered = await alteredWheelCopy(fx.wheel, work);
  assert.notEqual(fileSha256(altered), fileSha256(fx.wheel));
  const serialBefore = await m.api.statusSerial();
  const conflict = await legacyUpload(url, ALICE, { path: altered, name: fixtureName, version: fixtureVersion });
  assert.equal(conflict.status, 409, describeResponse(conflict));
  assert.ok(reasonMessage(conflict), `409 should carry its message in the reason phrase, got "${conflict.statusText}"`);
  const twineConflict = await twineUpload({ repositoryUrl: url, user: ALICE.user, password, files: [altered] });
  assert.notEqual(twineConflict.code, 0, `twine must fail on a conflicting re-upload:\n${twineConflict.describe()}`);
  assert.match(twineConflict.stdout + twineConflict.stderr, /409/, twineConflict.describe());
  assert.equal(await m.api.statusSerial(), serialBefore, 'a refused upload must not commit');

  const hashes = await fixtureFileHashes(STABLE);
  assert.deepEqual(hashes, { [basename(fx.wheel)]: fileSha256(fx.wheel) }, 'the original file must stay');
  const { page, data } = await projectJson(m.url, STABLE, fixtureName);
  const entry = data.files[0];
  assert.ok(entry);
  const body = Buffer.from(await (await fetch(resolveFileUrl(page.url, entry.url))).arrayBuffer());
  assert.equal(sha256Hex(body), fileSha256(fx.wheel), 'served bytes are the original upload');
}));

test('push (POST) from one index to another, then pip installs from the target', { timeout: CLIENT_TEST_TIMEOUT_MS }, guarded(async () => {
  await requireBaseUpload();
  const m = server();
  const token = await m.api.login(ALICE.user, ALICE.password);
  const alice = m.api.as({ user: ALICE.user, token });
  const res = await alice.post(`/${BASE}`, { name: fixtureName, version: fixtureVersion, targetindex: TARGET });
  assert.equal(res.status, 200, describeResponse(res));
  assert.deepEqual(await fixtureFileHashes(TARGET), await fixtureFileHashes(BASE), 'target files after push');
  await installFixture(TARGET, 'venv-target');
}));

test('upload without credentials is 401 with WWW-Authenticate: Basic, and commits nothing', { timeout: 60_000 }, guarded(async () => {
  await requireBaseUpload();
  const m = server();
  const fx = await buildFixture();
  const before = await storeSnapshot(m.url, STABLE, fixtureName);
  const res = await legacyUpload(`${m.url}/${STABLE}/`, undefined, { path: fx.sdist, name: fixtureName, version: fixtureVersion });
  assert.equal(res.status, 401, describeResponse(res));
  assert.match(res.headers.get('www-authenticate') ?? '', /^Basic\b/i, 'WWW-Authenticate header');
  assert.deepEqual(await storeSnapshot(m.url, STABLE, fixtureName), before);
}));

test('upload by a user not in acl_upload is 403 (Basic, X-Devpi-Auth and twine), and commits nothing', { timeout: CLIENT_TEST_TIMEOUT_MS }, guarded(async () => {
  await requireBaseUpload();
  const m = server();
  const fx = await buildFixture();
  const before = await storeSnapshot(m.url, BASE, fixtureName);
  const basic = await legacyUpload(`${m.url}/${BASE}/`, BOB, { path: fx.wheel, name: fixtureName, version: fixtureVersion });
  assert.equal(basic.status, 403, describeResponse(basic));
  const token = await m.api.login(BOB.user, BOB.password);
  const viaToken = await legacyUpload(`${m.url}/${BASE}/`, { user: BOB.user, token }, { path: fx.wheel, name: fixtureName, version: fixtureVersion });
  assert.equal(viaToken.status, 403, describeResponse(viaToken));
  const tw = await twineUpload({ repositoryUrl: `${m.url}/${BASE}/`, user: BOB.user, password: BOB.password, files: [fx.wheel] });
  assert.notEqual(tw.code, 0, tw.describe());
  assert.match(tw.stdout + tw.stderr, /403/, tw.describe());
  assert.deepEqual(await storeSnapshot(m.url, BASE, fixtureName), before);
}));

test('DELETE of a version on a non-volatile index is refused without ?force and works with it', { timeout: 60_000 }, guarded(async () => {
  const m = server();
  const fx = await buildFixture();
  const up = await legacyUpload(`${m.url}/${KEEP}/`, ALICE, { path: fx.wheel, name: fixtureName, version: fixtureVersion });
  assert.equal(up.status, 200, describeResponse(up));
  const alice = m.api.as(ALICE);
  const versionPath = `/${KEEP}/${fixtureName}/${fixtureVersion}`;
  const serialBefore = await m.api.statusSerial();
  const refused = await alice.delete(versionPath);
  assert.equal(refused.status, 403, describeResponse(refused));
  assert.ok(messageOf(refused), `refusal needs a JSON message: ${refused.text}`);
  assert.equal(await m.api.statusSerial(), serialBefore);
  const still = await alice.get(versionPath);
  assert.equal(still.status, 200, `version must still exist: ${describeResponse(still)}`);
  assert.deepEqual(await fixtureFileHashes(KEEP), { [basename(fx.wheel)]: fileSha256(fx.wheel) });

  const forced = await alice.delete(`${versionPath}?force`);
  assert.equal(forced.status, 200, describeResponse(forced));
  const gone = await alice.get(versionPath);
  assert.equal(gone.status, 404, `version must be gone after ?force: ${describeResponse(gone)}`);
}));

test('the raw PUSH method (devpi-client) over a socket pushes a release to the target index', { timeout: CLIENT_TEST_TIMEOUT_MS }, guarded(async () => {
  await requireBaseUpload();
  const m = server();
  const token = await m.api.login(ALICE.user, ALICE.password);
  const body = Buffer.from(JSON.stringify({ name: fixtureName, version: fixtureVersion, targetindex: PUSHED }), 'utf8');
  const head = requestHead(`PUSH /${BASE} HTTP/1.1`, {
    Host: `127.0.0.1:${m.port}`,
    'User-Agent': 'devpi-client/7.2.0 (wheelhouse e2e)',
    Accept: 'application/json',
    'Content-Type': 'application/json',
    'Content-Length': body.length,
    'X-Devpi-Auth': Buffer.from(`${ALICE.user}:${token}`).toString('base64'),
    Connection: 'close',
  });
  const ex = await rawExchange({ port: m.port, chunks: [head, body], timeoutMs: 30_000 });
  assert.ok(ex.response, `no HTTP response to PUSH; raw bytes: ${JSON.stringify(ex.raw.toString('latin1').slice(0, 500))}`);
  const res = ex.response;
  assert.equal(res.status, 200, `PUSH answered ${res.status} ${res.reason}: ${res.body.toString('utf8').slice(0, 500)}`);
  assert.ok(res.headers['x-devpi-serial'], 'PUSH response lacks X-Devpi-Serial');
  const json = JSON.parse(res.body.toString('utf8')) as { type?: string };
  assert.equal(json.type, 'actionlog', res.body.toString('utf8'));
  assert.deepEqual(await fixtureFileHashes(PUSHED), await fixtureFileHashes(BASE), 'files in the PUSH target');
  const version = await m.api.get(`/${PUSHED}/${fixtureName}/${fixtureVersion}`);
  assert.equal(version.status, 200, describeResponse(version));
  await installFixture(PUSHED, 'venv-pushed');
}));
