// Read-restricted indexes (issue 15) on every node of a loopback cluster — the master, a replica
// (which serves reads from its own state, so it checks them itself) and the proxy (which must not
// hand one user's answer to another):
// - anonymous curl gets 401 with `WWW-Authenticate: Basic` on the simple pages, the release file
//   and its `.metadata`; a user not in `acl_read` gets 403; real pip (`--isolated --no-input`,
//   PIP_FIND_LINKS unset) without credentials fails on the 401;
// - the listed user installs with credentials in the index URL (pip also fetches the PEP 658
//   `.metadata` and the wheel with them), or from a netrc file after the 401;
// - an open index inheriting the private one does not leak it: anonymous 401, the reader installs;
// - a restricted mirror index on the replica is served through the master (the replica asks with
//   its replica token) to the reader, and refused to anonymous before any upstream request.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createIndex, createUser, describeResponse, legacyUpload, makeVenv, pipInstall, PEP691_JSON, type Pep691Project, type Venv } from './harness.js';
import { FakeUpstream } from './local-upstream.js';
import { waitConverged } from './replica-status.js';
import { buildWheel, LoopbackCluster, run, withClusterLogs, type WheelhouseProcess } from '@wheelhouse/testing';

const ROOT_PASSWORD = 'readacl-root-secret';
type Password = { user: string; password: string };
const ALICE: Password = { user: 'alice', password: 'alice-readacl-pw' };
const BOB: Password = { user: 'bob', password: 'bob-readacl-pw' };
const CAROL: Password = { user: 'carol', password: 'carol-readacl-pw' };
const PROJECT = 'wh-secret-lib';

let cluster: LoopbackCluster | undefined;
let upstream: FakeUpstream | undefined;
let venv: Venv | undefined;
let fileUrl = '';
let failed = false;
const guarded = (fn: (t: import('node:test').TestContext) => Promise<void>) => withClusterLogs(() => cluster, () => (failed = true), fn);

before(async () => {
  upstream = await FakeUpstream.start('both');
  await upstream.addWheels('wh-mirrored-secret', ['2.0']);
  cluster = await LoopbackCluster.start({ label: 'readacl', rootPassword: ROOT_PASSWORD });
  const api = cluster.master.api;
  for (const u of [ALICE, BOB, CAROL]) await createUser(api.as({ user: 'root', password: ROOT_PASSWORD }), u.user, u.password);
  const alice = api.as(ALICE);
  await createIndex(alice, 'alice/private', { acl_read: ['bob'] });
  await createIndex(alice, 'alice/heir', { bases: ['alice/private'] });
  await createIndex(alice, 'alice/mirror', { type: 'mirror', mirror_url: upstream.simpleUrl, acl_read: 'bob' });
  const whl = buildWheel(PROJECT, '1.0', { layout: 'module' });
  const up = await legacyUpload(`${cluster.master.url}/alice/private/`, ALICE, { path: whl.filename, filename: whl.filename, content: whl.content, name: PROJECT, version: '1.0' });
  assert.equal(up.status, 200, describeResponse(up));
  const page = await fetch(`${cluster.master.url}/alice/private/+simple/${PROJECT}/`, { headers: { accept: PEP691_JSON, ...basic(BOB) } });
  assert.equal(page.status, 200);
  const file = ((await page.json()) as Pep691Project).files[0]!;
  fileUrl = new URL(file.url, `${cluster.master.url}/alice/private/+simple/${PROJECT}/`).pathname;
  await waitConverged(cluster.master, [cluster.replicaA, cluster.replicaB]);
  venv = await makeVenv(join(cluster.root, 'venv'));
}, { timeout: 240_000 });

after(async () => {
  await cluster?.stop(failed);
  await upstream?.stop();
});

function basic(c: Password): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${c.user}:${c.password}`).toString('base64')}` };
}

/** curl's status and headers of a GET (no body kept). */
async function curl(url: string, creds?: Password): Promise<{ status: number; headers: string }> {
  const r = await run('curl', ['-sS', '-o', '/dev/null', '-D', '-', ...(creds ? ['-u', `${creds.user}:${creds.password}`] : []), url], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.describe());
  const status = Number(/^HTTP\/[\d.]+ (\d+)/.exec(r.stdout)?.[1]);
  return { status, headers: r.stdout };
}

/** The simple URL of `index` on `node`, with credentials in it when given (as pip users write it). */
function simpleUrl(node: WheelhouseProcess, index: string, creds?: Password): string {
  const u = new URL(`${node.url}/${index}/+simple/`);
  if (creds) {
    u.username = creds.user;
    u.password = creds.password;
  }
  return u.toString();
}

async function pip(node: WheelhouseProcess, index: string, requirement: string, creds?: Password, env?: Record<string, string>) {
  const target = mkdtempSync(join(cluster!.root, 'target-'));
  return pipInstall(venv!, { indexUrl: simpleUrl(node, index, creds), requirements: [requirement], extraArgs: ['--no-input', '--no-deps', '--target', target], timeoutMs: 120_000, ...(env ? { env } : {}) });
}

const nodes = (): Array<[string, WheelhouseProcess]> => [
  ['master', cluster!.master],
  ['replica', cluster!.replicaA],
  ['proxy', cluster!.proxy],
];

test('anonymous curl: 401 with WWW-Authenticate on pages, file and .metadata; a user not listed: 403 — on master, replica and proxy', { timeout: 120_000 }, guarded(async () => {
  for (const [name, node] of nodes()) {
    for (const path of ['/alice/private/+simple/', `/alice/private/+simple/${PROJECT}/`, fileUrl, `${fileUrl}.metadata`, `/alice/heir/+simple/${PROJECT}/`, '/alice/mirror/+simple/wh-mirrored-secret/']) {
      const anon = await curl(node.url + path);
      assert.equal(anon.status, 401, `${name} ${path}: ${anon.headers}`);
      assert.match(anon.headers, /^www-authenticate: Basic realm="/im, `${name} ${path}`);
      const carol = await curl(node.url + path, CAROL);
      assert.equal(carol.status, 403, `${name} ${path} as carol: ${carol.headers}`);
      const bob = await curl(node.url + path, BOB);
      assert.equal(bob.status, 200, `${name} ${path} as bob: ${bob.headers}`);
      assert.match(bob.headers, /^cache-control: private/im, `${name} ${path} as bob`);
    }
  }
  // bob's reads of the mirror reached the upstream (through the master, for the replica)
  assert.ok(upstream!.requestsMentioning('wh-mirrored-secret').length > 0);
}));

test('real pip: anonymous fails on the 401, bob installs with credentials in the URL, the inheriting index does not leak — on master, replica and proxy', { timeout: 600_000 }, guarded(async () => {
  for (const [name, node] of nodes()) {
    const anon = await pip(node, 'alice/private', PROJECT);
    assert.notEqual(anon.code, 0, `${name}: anonymous pip installed from the private index:\n${anon.describe()}`);
    assert.match(anon.stdout + anon.stderr, /401|No matching distribution|could not find/i, `${name}:\n${anon.describe()}`);
    const heir = await pip(node, 'alice/heir', PROJECT);
    assert.notEqual(heir.code, 0, `${name}: anonymous pip installed the private project through the inheriting index:\n${heir.describe()}`);
    const bob = await pip(node, 'alice/private', PROJECT, BOB);
    assert.equal(bob.code, 0, `${name}: bob's install:\n${bob.describe()}`);
    assert.deepEqual(bob.installed.map((i) => `${i.metadata.name}==${i.metadata.version}`), [`${PROJECT}==1.0`], name);
  }
  const viaHeir = await pip(cluster!.proxy, 'alice/heir', PROJECT, BOB);
  assert.equal(viaHeir.code, 0, viaHeir.describe());
  // no credentials in the URL: pip answers the 401 with those of the netrc file (NETRC, as ~/.netrc)
  const netrc = join(cluster!.root, 'netrc');
  writeFileSync(netrc, `machine 127.0.0.1 login ${BOB.user} password ${BOB.password}\n`, { mode: 0o600 });
  const viaNetrc = await pip(cluster!.proxy, 'alice/private', PROJECT, undefined, { NETRC: netrc });
  assert.equal(viaNetrc.code, 0, `bob's install with credentials from netrc:\n${viaNetrc.describe()}`);
  const mirrored = await pip(cluster!.replicaA, 'alice/mirror', 'wh-mirrored-secret', BOB);
  assert.equal(mirrored.code, 0, `bob's install from the restricted mirror through the replica:\n${mirrored.describe()}`);
}));
