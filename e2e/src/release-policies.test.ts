// Release policies (issue 15 part 4) against a real master: an index with allowed_versions refuses a
// pre-release uploaded by the real twine and a pre-release pushed into it with devpi-client's PUSH
// method, with a 409 whose message names the policy and the version; finals still go in, and
// required_files=wheel refuses pushing an sdist-only release.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { buildSdist, buildWheel, CLIENT_TEST_TIMEOUT_MS, createIndex, createUser, messageOf, resultOf, twineUpload } from './harness.js';
import { TestRoot, type WheelhouseProcess } from '@wheelhouse/testing';

const ROOT_PASSWORD = 'root-policy-secret';
const USER = 'alice';
const PASSWORD = 'alice-policy-pw';
const PROJECT = 'policy-demo';

const testRoot = new TestRoot('release-policies');
let master: WheelhouseProcess | undefined;
let work = '';
const server = (): WheelhouseProcess => {
  assert.ok(master, 'the master did not start (see the before hook)');
  return master;
};
const alice = () => server().api.as({ user: USER, password: PASSWORD });
const guarded = (fn: Parameters<TestRoot['guarded']>[0]) => testRoot.guarded(fn);

/** A wheel (or sdist) of PROJECT at `version`, written under the work directory; returns its path. */
function distFile(version: string, kind: 'wheel' | 'sdist' = 'wheel'): string {
  const d = kind === 'wheel' ? buildWheel(PROJECT, version) : buildSdist(PROJECT, version);
  const path = join(work, d.filename);
  writeFileSync(path, d.content);
  return path;
}

/** devpi-client's push: `PUSH /{source}` with a JSON body naming the target (devpi §1.11). */
async function devpiPush(source: string, version: string, target: string): Promise<{ status: number; message: string | undefined }> {
  const res = await request(`${server().url}/${source}`, {
    method: 'PUSH',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` },
    body: JSON.stringify({ name: PROJECT, version, targetindex: target }),
  });
  const text = await res.body.text();
  let message: string | undefined;
  try {
    message = (JSON.parse(text) as { message?: string }).message;
  } catch {
    message = text;
  }
  return { status: res.statusCode, message };
}

before(async () => {
  master = await testRoot.startMaster('master', ROOT_PASSWORD);
  work = join(testRoot.root, 'work');
  mkdirSync(work);
  await createUser(server().api.as({ user: 'root', password: ROOT_PASSWORD }), USER, PASSWORD);
  await createIndex(alice(), `${USER}/dev`);
  await createIndex(alice(), `${USER}/prod`, { volatile: false });
  // devpi-client's form: devpi index alice/prod allowed_versions=final,post
  const patched = await alice().patch(`/${USER}/prod`, ['allowed_versions=final,post']);
  assert.equal(patched.status, 200, patched.text);
}, { timeout: 120_000 });

after(async () => {
  await testRoot.cleanup({ graceful: true });
});

test('the policy is shown in the index JSON and a bad value is refused with 400', guarded(async () => {
  const view = resultOf(await alice().get(`/${USER}/prod`));
  assert.deepEqual(view['allowed_versions'], ['final', 'post']);
  const bad = await alice().patch(`/${USER}/prod`, { allowed_versions: ['final', 'nightly'] });
  assert.equal(bad.status, 400, bad.text);
  assert.match(messageOf(bad) ?? '', /allowed_versions/);
  assert.deepEqual(resultOf(await alice().get(`/${USER}/prod`))['allowed_versions'], ['final', 'post'], 'the refused change changed nothing');
}));

test('twine upload of a pre-release into the policy index is refused with 409 naming policy and version', { timeout: CLIENT_TEST_TIMEOUT_MS }, guarded(async () => {
  const serial = await server().api.statusSerial();
  const r = await twineUpload({ repositoryUrl: `${server().url}/${USER}/prod/`, user: USER, password: PASSWORD, files: [distFile('2.0rc1')] });
  assert.notEqual(r.code, 0, `twine should have failed:\n${r.describe()}`);
  // twine (rich) wraps its lines: compare with the whitespace collapsed
  const out = (r.stdout + r.stderr).replace(/\s+/g, ' ');
  assert.match(out, /409/, out);
  assert.match(out, /policy-demo 2\.0rc1 refused by alice\/prod's policy allowed_versions=final,post: 2\.0rc1 is a pre-release/, out);
  assert.equal(await server().api.statusSerial(), serial, 'nothing was committed');
  assert.equal((await alice().get(`/${USER}/prod/${PROJECT}/2.0rc1`)).status, 404);
  // a final goes in through the same client
  const ok = await twineUpload({ repositoryUrl: `${server().url}/${USER}/prod/`, user: USER, password: PASSWORD, files: [distFile('1.0')] });
  assert.equal(ok.code, 0, ok.describe());
}));

test("devpi-client's PUSH of a pre-release into the policy index is refused with 409 naming policy and version; a final is pushed", { timeout: CLIENT_TEST_TIMEOUT_MS }, guarded(async () => {
  const up = await twineUpload({ repositoryUrl: `${server().url}/${USER}/dev/`, user: USER, password: PASSWORD, files: [distFile('3.0.dev4'), distFile('3.0')] });
  assert.equal(up.code, 0, up.describe());
  const refused = await devpiPush(`${USER}/dev`, '3.0.dev4', `${USER}/prod`);
  assert.equal(refused.status, 409, refused.message);
  assert.equal(refused.message, "policy-demo 3.0.dev4 refused by alice/prod's policy allowed_versions=final,post: 3.0.dev4 is a dev release");
  assert.equal((await alice().get(`/${USER}/prod/${PROJECT}/3.0.dev4`)).status, 404);
  const pushed = await devpiPush(`${USER}/dev`, '3.0', `${USER}/prod`);
  assert.equal(pushed.status, 200, pushed.message);
  assert.equal((await alice().get(`/${USER}/prod/${PROJECT}/3.0`)).status, 200);
}));

test('required_files=wheel refuses pushing an sdist-only release into the index', { timeout: CLIENT_TEST_TIMEOUT_MS }, guarded(async () => {
  const patched = await alice().patch(`/${USER}/prod`, ['required_files=wheel']);
  assert.equal(patched.status, 200, patched.text);
  const up = await twineUpload({ repositoryUrl: `${server().url}/${USER}/dev/`, user: USER, password: PASSWORD, files: [distFile('4.0', 'sdist')] });
  assert.equal(up.code, 0, up.describe());
  const refused = await devpiPush(`${USER}/dev`, '4.0', `${USER}/prod`);
  assert.equal(refused.status, 409, refused.message);
  assert.match(refused.message ?? '', /policy-demo 4\.0 refused by alice\/prod's policy required_files=wheel: the release has no wheel file/);
}));
