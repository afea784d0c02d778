// LDAP sign-in and directory groups against Debian's real slapd (issue 15, part 1): the test
// starts its own slapd (generated slapd.conf, users carol and dave, groups developers and
// release-managers; slapd.ts) and a master and a replica with the same --ldap-config (service
// account password in a file, cache-time 0 so that every check reaches the directory). Then:
// +login and `devpi login` with directory credentials, twine uploads with them, `:group:` in
// acl_upload grants and a PATCH revoking it refuses, the replica authenticates directory users
// itself and forwards their writes; slapd stopped: local users and directory tokens still work,
// directory passwords get 503 with a JSON message, the master's /+metrics shows
// wheelhouse_ldap_up 0 and its log the line saying so. Skipped (with the reason) without slapd.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_DN, buildWheel, GROUPS, messageOf, PEOPLE, run, Slapd, slapdMissing, TestRoot, waitFor, type ApiClient, type LdapUser, type WheelhouseProcess } from '@wheelhouse/testing';
import { CLIENT_TEST_TIMEOUT_MS, createIndex, createUser, describeResponse, twineUpload } from './harness.js';


const ROOT_PASSWORD = 'root-ldap-e2e';
const DEVPI_VENV = process.env['WHEELHOUSE_DEVPI_VENV'] ?? '/tmp/devpi-venv';
const USERS: LdapUser[] = [
  { uid: 'carol', password: 'carol-directory-pw', groups: ['developers', 'release-managers'] },
  { uid: 'dave', password: 'dave-directory-pw', groups: ['developers'] },
];
const missing = slapdMissing();

/** Files under `dir` whose bytes contain one of `secrets`. */
function filesHolding(dir: string, secrets: readonly string[]): string[] {
  const found: string[] = [];
  const walk = (p: string): void => {
    if (statSync(p).isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
    else if (secrets.some((s) => readFileSync(p).includes(s))) found.push(p);
  };
  walk(dir);
  return found;
}

describe('LDAP sign-in and directory groups (real slapd)', { skip: missing, timeout: 600_000 }, () => {
  const cluster = new TestRoot('ldap');
  let slapd: Slapd;
  let master: WheelhouseProcess;
  let replica: WheelhouseProcess;
  const root = (): ApiClient => master.api.as({ user: 'root', password: ROOT_PASSWORD });
  const carol = { user: 'carol', password: USERS[0]!.password };
  const dave = { user: 'dave', password: USERS[1]!.password };

  before(async () => {
    slapd = await Slapd.start(cluster.dir('slapd'), USERS);
    writeFileSync(cluster.dir('ldap-password'), `${slapd.adminPassword}\n`, { mode: 0o600 });
    const config = cluster.dir('ldap.json');
    writeFileSync(
      config,
      JSON.stringify({
        url: slapd.url,
        'bind-dn': ADMIN_DN,
        'bind-password-file': 'ldap-password',
        'user-search': { base: PEOPLE, filter: '(&(objectClass=inetOrgPerson)(uid={username}))' },
        'group-search': { base: GROUPS, filter: '(&(objectClass=groupOfNames)(member={dn}))' },
        timeout: '3s',
        'connect-timeout': '2s',
        'cache-time': 0,
      }),
    );
    master = await cluster.startMaster('master', ROOT_PASSWORD, { args: ['--ldap-config', config], logLevel: 'info' });
    replica = await cluster.startReplica('replica', master, { args: ['--ldap-config', config] });
    await createUser(root(), 'alice', 'alice-local-pw');
    await createIndex(master.api.as({ user: 'alice', password: 'alice-local-pw' }), 'alice/dev', { acl_upload: ['alice', ':group:release-managers'] });
  }, { timeout: 120_000 });
  after(async () => {
    await slapd?.stop();
    await cluster.cleanup();
  });

  /** A wheel written to a file for twine. */
  function wheelFile(name: string, version: string): string {
    const w = buildWheel(name, version, { requiresPython: null });
    const path = cluster.dir(w.filename);
    writeFileSync(path, w.content);
    return path;
  }

  test('+login with directory credentials issues a token that carries the directory groups; a wrong password is 401', cluster.guarded(async () => {
    const token = await master.api.login(carol.user, carol.password);
    const who = await master.api.as({ user: 'carol', token }).get('/+api');
    assert.equal((who.json as { result: { authstatus: [string, string] } }).result.authstatus[1], 'carol', describeResponse(who));
    const wrong = await master.api.post('/+login', { user: 'carol', password: 'not-her-password' });
    assert.equal(wrong.status, 401, describeResponse(wrong));
    assert.match(messageOf(wrong) ?? '', /wrong password for user carol/);
    const unknown = await master.api.post('/+login', { user: 'mallory', password: 'x' });
    assert.equal(unknown.status, 401, describeResponse(unknown));
    const changelog = await root().get('/carol');
    assert.equal(changelog.status, 404, 'a directory user gets no user record in the changelog (as devpi-ldap)');
    assert.ok(!readFileSync(cluster.dir('master.log'), 'utf8').includes(slapd.adminPassword), 'the service password is never logged');
  }));

  test('devpi login with directory credentials', { skip: existsSync(join(DEVPI_VENV, 'bin', 'devpi')) ? false : `no devpi client at ${DEVPI_VENV} (../shared/tools/devpi/install.sh)`, timeout: CLIENT_TEST_TIMEOUT_MS }, cluster.guarded(async () => {
    const clientdir = cluster.dir('devpi-client');
    const devpi = (...args: string[]) => run(join(DEVPI_VENV, 'bin', 'devpi'), ['--clientdir', clientdir, ...args], { timeoutMs: 120_000, env: { ...process.env, PIP_CONFIG_FILE: '/dev/null' } });
    const use = await devpi('use', `${master.url}/alice/dev`);
    assert.equal(use.code, 0, use.describe());
    const login = await devpi('login', 'carol', '--password', carol.password);
    assert.equal(login.code, 0, login.describe());
    assert.match(login.stdout + login.stderr, /logged in 'carol'/);
    const bad = await devpi('login', 'carol', '--password', 'wrong');
    assert.notEqual(bad.code, 0, bad.describe());
  }));

  test('twine uploads with directory credentials through :group: in acl_upload; revoking the group refuses', { timeout: CLIENT_TEST_TIMEOUT_MS }, cluster.guarded(async () => {
    const url = `${master.url}/alice/dev/`;
    const up = await twineUpload({ repositoryUrl: url, ...carol, files: [wheelFile('ldapdemo', '1.0')] });
    assert.equal(up.code, 0, `carol is in release-managers: ${up.describe()}`);
    const refused = await twineUpload({ repositoryUrl: url, ...dave, files: [wheelFile('ldapdemo', '1.1')] });
    assert.notEqual(refused.code, 0, 'dave is only in developers');
    assert.match(refused.stdout + refused.stderr, /403/);
    const alice = master.api.as({ user: 'alice', password: 'alice-local-pw' });
    const grant = await alice.patch('/alice/dev', ['acl_upload+=:group:developers']);
    assert.equal(grant.status, 200, describeResponse(grant));
    const now = await twineUpload({ repositoryUrl: url, ...dave, files: [wheelFile('ldapdemo', '1.2')] });
    assert.equal(now.code, 0, `developers granted: ${now.describe()}`);
    const revoke = await alice.patch('/alice/dev', ['acl_upload-=:group:release-managers', 'acl_upload-=:group:developers']);
    assert.equal(revoke.status, 200, describeResponse(revoke));
    const after = await twineUpload({ repositoryUrl: url, ...carol, files: [wheelFile('ldapdemo', '1.3')] });
    assert.notEqual(after.code, 0, 'release-managers revoked');
    assert.match(after.stdout + after.stderr, /403/);
    const grantAgain = await alice.patch('/alice/dev', ['acl_upload+=:group:release-managers']);
    assert.equal(grantAgain.status, 200, describeResponse(grantAgain));
  }));

  test('the replica authenticates directory users itself and forwards their uploads', { timeout: CLIENT_TEST_TIMEOUT_MS }, cluster.guarded(async () => {
    const who = await replica.api.as(carol).get('/+api');
    assert.equal((who.json as { result: { authstatus: [string, string] } }).result.authstatus[1], 'carol', describeResponse(who));
    const token = await replica.api.login(carol.user, carol.password);
    const viaToken = await replica.api.as({ user: 'carol', token }).get('/+api');
    assert.equal((viaToken.json as { result: { authstatus: [string, string] } }).result.authstatus[1], 'carol');
    const up = await twineUpload({ repositoryUrl: `${replica.url}/alice/dev/`, ...carol, files: [wheelFile('ldapreplica', '1.0')] });
    assert.equal(up.code, 0, up.describe());
    const json = await master.api.get('/alice/dev/ldapreplica', { headers: { Accept: 'application/json' } });
    assert.equal(json.status, 200, `the write reached the master: ${describeResponse(json)}`);
  }));

  test('slapd stopped: local users, root and directory tokens still work; directory passwords get 503 with a message; metric and log line', { timeout: CLIENT_TEST_TIMEOUT_MS }, cluster.guarded(async () => {
    const token = await master.api.login(carol.user, carol.password);
    await slapd.stop();
    const local = await twineUpload({ repositoryUrl: `${master.url}/alice/dev/`, user: 'alice', password: 'alice-local-pw', files: [wheelFile('ldapdown', '1.0')] });
    assert.equal(local.code, 0, `a local user uploads while the directory is down: ${local.describe()}`);
    assert.equal((await root().get('/+api')).status, 200);
    for (const node of [master, replica]) {
      const login = await node.api.post('/+login', { user: 'carol', password: carol.password });
      assert.equal(login.status, 503, `${node.name}: ${describeResponse(login)}`);
      assert.match(messageOf(login) ?? '', /user directory \(LDAP\) cannot be reached .*'carol'/);
      const whoAmI = await node.api.as(carol).get('/+api');
      assert.equal(whoAmI.status, 503, `${node.name}: ${describeResponse(whoAmI)}`);
      const viaToken = await node.api.as({ user: 'carol', token }).get('/+api');
      assert.equal((viaToken.json as { result: { authstatus: [string, string] } }).result.authstatus[1], 'carol', `${node.name}: a directory token needs no directory`);
    }
    const upload = await twineUpload({ repositoryUrl: `${master.url}/alice/dev/`, ...carol, files: [wheelFile('ldapdown', '1.1')] });
    assert.notEqual(upload.code, 0);
    assert.match(upload.stdout + upload.stderr, /503/);
    const metrics = await fetch(`${master.url}/+metrics`).then((r) => r.text());
    assert.match(metrics, /^wheelhouse_ldap_up 0$/m);
    assert.match(metrics, /^wheelhouse_ldap_errors_total [1-9]\d*$/m);
    await waitFor(() => readFileSync(cluster.dir('master.log'), 'utf8').includes('LDAP directory unreachable'), { timeoutMs: 10_000, what: 'the log line' });
    for (const node of [master, replica]) {
      const leaked = filesHolding(node.datadir, [carol.password, dave.password, slapd.adminPassword]);
      assert.deepEqual(leaked, [], `${node.name}: no directory password in the data directory (changelog, files)`);
    }
    await slapd.resume();
    const back = await master.api.post('/+login', { user: 'carol', password: carol.password });
    assert.equal(back.status, 200, `the directory answers again: ${describeResponse(back)}`);
  }));
});
