// Bad input loses nothing: every malformed or wrong request gets a 4xx with a clear message (a JSON
// `message`, or for uploads the message in the HTTP reason phrase, which twine prints) and leaves the
// store exactly as it was — same serial in GET /+status and X-Devpi-Serial, same user list, same
// project list and simple pages. The index is non-volatile, so a half-stored upload would also show
// up as a 409 when the correct file is finally uploaded (last test).
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  buildFixture, createIndex, createUser, describeResponse, fileSha256, fixtureName, fixtureVersion, legacyUpload,
  messageOf, projectJson, rawExchange, requestHead, resolveFileUrl, sha256Hex, storeSnapshot,
  uploadBody, type ApiResponse, type StoreSnapshot,
} from './harness.js';
import { TestRoot, type WheelhouseProcess } from '@wheelhouse/testing';

const ROOT_PASSWORD = 'root-e2e-secret';
const DANA = { user: 'dana', password: 'dana-e2e-pw' } as const;
const INDEX = 'dana/prod';

const testRoot = new TestRoot('bad-input');
let master: WheelhouseProcess | undefined;
const guarded = (fn: Parameters<TestRoot['guarded']>[0]) => testRoot.guarded(fn);
const server = (): WheelhouseProcess => {
  assert.ok(master, 'the master did not start (see the before hook)');
  return master;
};
const root = () => server().api.as({ user: 'root', password: ROOT_PASSWORD });
const uploadUrl = (index = INDEX): string => `${server().url}/${index}/`;

before(async () => {
  master = await testRoot.startMaster('master', ROOT_PASSWORD, { logLevel: 'info' });
  await createUser(root(), DANA.user, DANA.password);
  await createIndex(master.api.as(DANA), INDEX, { volatile: false });
  // Seed the project with its wheel, so the pages compared below are not empty.
  const fx = await buildFixture();
  const seeded = await legacyUpload(uploadUrl(), DANA, { path: fx.wheel, name: fixtureName, version: fixtureVersion });
  assert.equal(seeded.status, 200, `seeding upload: ${describeResponse(seeded)}`);
}, { timeout: 120_000 });

after(async () => {
  await testRoot.cleanup({ graceful: true });
});

const snapshot = (): Promise<StoreSnapshot> => storeSnapshot(server().url, INDEX, fixtureName);

/**
 * Runs `act` between two snapshots: `check` asserts on the answer first (status and message), then
 * the answer must carry the old X-Devpi-Serial and the two snapshots must be equal.
 */
async function assertStoreUnchanged(act: () => Promise<ApiResponse>, check: (res: ApiResponse) => void): Promise<void> {
  const before = await snapshot();
  const res = await act();
  check(res);
  assert.notEqual(res.serial, undefined, `the error response lacks X-Devpi-Serial: ${describeResponse(res)}`);
  assert.equal(res.serial, before.statusSerial, 'X-Devpi-Serial of the error response');
  assert.deepEqual(await snapshot(), before, 'the store changed');
}

function assertClientError(res: ApiResponse, expected?: number): void {
  if (expected !== undefined) assert.equal(res.status, expected, describeResponse(res));
  else assert.ok(res.status >= 400 && res.status < 500, `expected a 4xx, got ${describeResponse(res)}`);
}

/** Upload errors: the message goes into the reason phrase (twine prints it); a JSON message may come too. */
function assertUploadError(t: TestContext, res: ApiResponse, expected?: number): void {
  assertClientError(res, expected);
  const reason = res.statusText.trim();
  t.diagnostic(`${res.status} reason phrase "${reason}"; JSON message ${JSON.stringify(messageOf(res))}`);
  assert.ok(reason !== '' && reason !== STATUS_CODES[res.status], `the upload error message belongs in the reason phrase, got "${reason}" (body: ${res.text.slice(0, 300)})`);
}

function assertJsonError(t: TestContext, res: ApiResponse, expected?: number): void {
  assertClientError(res, expected);
  const message = messageOf(res);
  t.diagnostic(`${res.status}: ${JSON.stringify(message)}`);
  assert.ok(message && message.trim().length > 0, `expected a JSON {"message": …}, got ${describeResponse(res)}`);
  assert.match(res.headers.get('content-type') ?? '', /json/, 'error Content-Type');
}

/** Files below `dir` (recursively) whose name is `name`. */
function findFiles(dir: string, name: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) findFiles(p, name, out);
    else if (entry === name) out.push(p);
  }
  return out;
}

test('a truncated multipart upload (Content-Length larger than the body, then the client closes) stores nothing', { timeout: 60_000 }, guarded(async (t) => {
  const m = server();
  const fx = await buildFixture();
  const sdistSize = readFileSync(fx.sdist).length;
  const { contentType, body, fileOffset } = uploadBody({ path: fx.sdist, name: fixtureName, version: fixtureVersion });
  const sent = body.subarray(0, fileOffset + Math.floor(sdistSize / 2));
  const head = requestHead(`POST /${INDEX}/ HTTP/1.1`, {
    Host: `127.0.0.1:${m.port}`,
    'Content-Type': contentType,
    'Content-Length': body.length,
    Authorization: `Basic ${Buffer.from(`${DANA.user}:${DANA.password}`).toString('base64')}`,
    'User-Agent': 'twine/4.0.2 (wheelhouse e2e, truncated)',
    Connection: 'close',
  });
  const before = await snapshot();
  const ex = await rawExchange({ port: m.port, chunks: [head, sent], endAfterWrite: true, timeoutMs: 15_000 });
  if (ex.response) {
    // The client half-closed, so the server may still answer: then it must be a 4xx, never a success.
    t.diagnostic(`server answered ${ex.response.status} ${ex.response.reason}`);
    assert.ok(ex.response.status >= 400 && ex.response.status < 500, `truncated upload answered ${ex.response.status} ${ex.response.reason}`);
  } else {
    t.diagnostic(`no HTTP response; connection ${ex.closedByServer ? 'closed by the server' : 'still open after 15 s'}`);
  }
  assert.deepEqual(await snapshot(), before, 'the store changed');
  // The server is still healthy and the name is still free (checked again by the last test).
  const { data } = await projectJson(m.url, INDEX, fixtureName);
  assert.ok(!data.files.some((f) => f.filename === basename(fx.sdist)), 'the truncated sdist must not be listed');
}));

test('an upload whose sha256_digest does not match the content is refused', { timeout: 60_000 }, guarded(async (t) => {
  const fx = await buildFixture();
  await assertStoreUnchanged(
    () => legacyUpload(uploadUrl(), DANA, { path: fx.sdist, name: fixtureName, version: fixtureVersion, sha256Digest: '0'.repeat(64) }),
    (res) => assertUploadError(t, res),
  );
}));

test('an upload whose file name contains ../ is refused and writes no file outside the store', { timeout: 60_000 }, guarded(async (t) => {
  const m = server();
  const fx = await buildFixture();
  // Version 1.0.1 (the sdist's bytes under another name): should the server wrongly accept it, the
  // last test's check that 1.0.0's sdist name was never reserved still means what it says.
  const target = `${fixtureName}-1.0.1.tar.gz`;
  await assertStoreUnchanged(
    () => legacyUpload(uploadUrl(), DANA, { path: fx.sdist, name: fixtureName, version: '1.0.1', filename: `../../${target}` }),
    (res) => assertUploadError(t, res),
  );
  // Anywhere in the test's temp dir (datadir, log, the server's cwd), or next to it in the temp root.
  const written = [...findFiles(testRoot.root, target), ...[tmpdir(), join(testRoot.root, '..', '..')].map((d) => join(d, target)).filter((p) => existsSync(p))];
  assert.deepEqual(written, [], `a file named ${target} was written`);
}));

test('an upload whose file name belongs to another project is refused', { timeout: 60_000 }, guarded(async (t) => {
  const fx = await buildFixture();
  await assertStoreUnchanged(
    () => legacyUpload(uploadUrl(), DANA, { path: fx.sdist, name: fixtureName, version: fixtureVersion, filename: `other-project-${fixtureVersion}.tar.gz` }),
    (res) => assertUploadError(t, res),
  );
}));

test('an upload with an invalid project name is refused', { timeout: 60_000 }, guarded(async (t) => {
  const fx = await buildFixture();
  const bad = 'wh$e2e$demo';
  await assertStoreUnchanged(
    () => legacyUpload(uploadUrl(), DANA, { path: fx.sdist, name: bad, version: fixtureVersion, filename: `${bad}-${fixtureVersion}.tar.gz` }),
    (res) => assertUploadError(t, res),
  );
}));

test('a malformed JSON body on PUT /{user} is 400 with a message and creates no user', { timeout: 30_000 }, guarded(async (t) => {
  await assertStoreUnchanged(
    () => root().put('/erin', undefined, { rawBody: '{"password": "erin-pw", ' }),
    (res) => assertJsonError(t, res, 400),
  );
  const erin = await root().get('/erin');
  assert.equal(erin.status, 404, `user erin must not exist: ${describeResponse(erin)}`);
}));

test('a malformed JSON body on PATCH /{user}/{index} is 400 with a message', { timeout: 30_000 }, guarded(async (t) => {
  await assertStoreUnchanged(
    () => server().api.as(DANA).patch(`/${INDEX}`, undefined, { rawBody: '{"title": ' }),
    (res) => assertJsonError(t, res, 400),
  );
}));

test('an upload to an unknown index is 404 with a message', { timeout: 30_000 }, guarded(async (t) => {
  const fx = await buildFixture();
  await assertStoreUnchanged(
    () => legacyUpload(uploadUrl('dana/no-such-index'), DANA, { path: fx.sdist, name: fixtureName, version: fixtureVersion }),
    (res) => assertUploadError(t, res, 404),
  );
}));

test('PATCH of an unknown index is 404 with a message', { timeout: 30_000 }, guarded(async (t) => {
  await assertStoreUnchanged(
    () => server().api.as(DANA).patch('/dana/no-such-index', { title: 'x' }),
    (res) => assertJsonError(t, res, 404),
  );
}));

test('PUT of an index for an unknown user is 404 with a message', { timeout: 30_000 }, guarded(async (t) => {
  await assertStoreUnchanged(
    () => root().put('/nobody/dev', {}),
    (res) => assertJsonError(t, res, 404),
  );
}));

test('after all that, the correct upload of the sdist to the non-volatile index succeeds and serves the right bytes', { timeout: 60_000 }, guarded(async () => {
  const m = server();
  const fx = await buildFixture();
  const listed = await projectJson(m.url, INDEX, fixtureName);
  assert.ok(
    !listed.data.files.some((f) => f.filename === basename(fx.sdist)),
    `${basename(fx.sdist)} is already listed before its correct upload: an earlier bad request stored it`,
  );
  const serialBefore = await m.api.statusSerial();
  const res = await legacyUpload(uploadUrl(), DANA, { path: fx.sdist, name: fixtureName, version: fixtureVersion });
  assert.equal(res.status, 200, `a refused or truncated upload must not have reserved the name: ${describeResponse(res)}`);
  assert.ok((await m.api.statusSerial()) > serialBefore, 'a successful upload commits');
  const { page, data } = await projectJson(m.url, INDEX, fixtureName);
  const entry = data.files.find((f) => f.filename === basename(fx.sdist));
  assert.ok(entry, JSON.stringify(data.files));
  assert.equal(entry.hashes['sha256'], fileSha256(fx.sdist));
  const body = Buffer.from(await (await fetch(resolveFileUrl(page.url, entry.url))).arrayBuffer());
  assert.equal(sha256Hex(body), fileSha256(fx.sdist));
}));
