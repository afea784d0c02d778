import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Changelog } from '@wheelhouse/changelog';
import { statusOf } from '@wheelhouse/http';
import { Authenticator, DIRECTORY_BINDING } from '../authenticator.js';
import { hashPassword } from '../passwords.js';
import { TokenSigner } from '../tokens.js';
import { createUser } from '../../model/users.js';
import { aclAllows } from '../../acl.js';
import { UserDirectory, type DirectoryAnswer, type DirectoryLookup } from './user-directory.js';

/** A directory in memory: users with passwords and groups; `down` makes every lookup fail as a refused connection. */
class FakeDirectory implements DirectoryLookup {
  readonly description = 'ldap://fake';
  down = false;
  lookups = 0;
  constructor(readonly users: Record<string, { password: string; groups: string[] }>) {}
  async authenticate(user: string, password: string): Promise<DirectoryAnswer> {
    this.lookups++;
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:389'), { code: 'ECONNREFUSED' });
    const u = this.users[user];
    if (!u) return 'unknown-user';
    return u.password === password ? { groups: u.groups } : 'wrong-password';
  }
}

function logLines(): { log: pino.Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) });
  return { log, lines };
}

let localHash: string;
before(async () => {
  localHash = await hashPassword('local-pw');
});

async function fixture(cacheMs = 60_000, now?: () => number) {
  const changelog = await Changelog.openInMemory();
  await changelog.write((tx) => {
    createUser(tx, 'root', { pwhash: localHash });
    createUser(tx, 'alice', { pwhash: localHash });
  });
  const fake = new FakeDirectory({ carol: { password: 'carol-pw', groups: ['developers', 'release-managers'] }, dave: { password: 'dave-pw', groups: [] } });
  const { log, lines } = logLines();
  const directory = new UserDirectory(fake, { cacheMs, log, ...(now ? { now } : {}) });
  const auth = new Authenticator(changelog, new TokenSigner(Buffer.alloc(32, 3)), undefined, undefined, directory);
  return { changelog, fake, directory, auth, lines };
}

test('a user without a local record signs in against the directory; the principal carries its groups', async () => {
  const { auth } = await fixture();
  const { user } = await auth.authenticate({ user: 'carol', secret: 'carol-pw' });
  assert.deepEqual(user, { name: 'carol', groups: ['developers', 'release-managers'] });
  assert.equal(aclAllows([':group:release-managers'], user), true);
  assert.deepEqual(await auth.authenticate({ user: 'carol', secret: 'wrong' }), { failure: 'wrong password for user carol' });
  assert.deepEqual(await auth.authenticate({ user: 'nobody', secret: 'x' }), {}, 'unknown in the directory: the generic message');
});

test('parallel checks of the same credentials share one directory lookup', async () => {
  const { auth, fake } = await fixture(0);
  const names = await Promise.all(Array.from({ length: 8 }, () => auth.check({ user: 'carol', secret: 'carol-pw' })));
  assert.deepEqual(names, Array(8).fill('carol'));
  assert.equal(fake.lookups, 1);
  await auth.check({ user: 'carol', secret: 'carol-pw' });
  assert.equal(fake.lookups, 2, 'nothing cached with cacheMs 0 once the lookup finished');
});

test('an empty password is refused without asking the directory (an LDAP bind without password is anonymous)', async () => {
  const { auth, fake } = await fixture();
  assert.deepEqual(await auth.authenticate({ user: 'carol', secret: '' }), { failure: 'wrong password for user carol' });
  assert.equal(fake.lookups, 0);
});

test('local users and root are checked locally first and never ask the directory', async () => {
  const { auth, fake } = await fixture();
  fake.users['alice'] = { password: 'directory-pw', groups: ['admins'] };
  fake.users['root'] = { password: 'directory-pw', groups: ['admins'] };
  assert.equal(await auth.check({ user: 'alice', secret: 'local-pw' }), 'alice');
  assert.equal(await auth.check({ user: 'alice', secret: 'directory-pw' }), undefined, "the directory's alice is not the local alice");
  assert.equal(await auth.check({ user: 'root', secret: 'directory-pw' }), undefined);
  assert.equal(fake.lookups, 0);
});

test('successful checks are cached for cacheMs; a changed password in the directory is asked again', async () => {
  let clock = 1_000_000;
  const { auth, fake } = await fixture(10_000, () => clock);
  await auth.check({ user: 'carol', secret: 'carol-pw' });
  await auth.check({ user: 'carol', secret: 'carol-pw' });
  assert.equal(fake.lookups, 1, 'the second check came from the cache');
  assert.equal(await auth.check({ user: 'carol', secret: 'other' }), undefined, 'another password is not the cached one');
  assert.equal(fake.lookups, 2);
  clock += 10_001;
  await auth.check({ user: 'carol', secret: 'carol-pw' });
  assert.equal(fake.lookups, 3, 'expired: asked again');
});

test('the directory down: directory users get 503 with a message, local users, root and tokens still work; one log line, metrics (issue 15)', async () => {
  const { auth, fake, directory, lines } = await fixture(0);
  const token = auth.issueToken((await auth.authenticate({ user: 'carol', secret: 'carol-pw' })).user!);
  const registry = new Registry();
  directory.registerMetrics(registry);
  fake.down = true;
  for (let i = 0; i < 3; i++) {
    await assert.rejects(auth.check({ user: 'carol', secret: 'carol-pw' }), (err: Error) => {
      assert.equal(statusOf(err), 503);
      assert.match(err.message, /user directory \(LDAP\) cannot be reached .* 'carol'; local users and login tokens still work/);
      return true;
    });
  }
  assert.equal(await auth.check({ user: 'alice', secret: 'local-pw' }), 'alice');
  assert.equal(await auth.check({ user: 'root', secret: 'local-pw' }), 'root');
  assert.deepEqual((await auth.authenticate({ user: 'carol', secret: token })).user, { name: 'carol', groups: ['developers', 'release-managers'] }, "a directory user's token carries its groups");
  const metrics = await registry.metrics();
  assert.match(metrics, /^wheelhouse_ldap_up 0$/m);
  assert.match(metrics, /^wheelhouse_ldap_errors_total 3$/m);
  assert.equal(lines.filter((l) => /LDAP directory unreachable/.test(l.msg)).length, 1, 'one line when it goes down, not one per request');
  assert.ok(!JSON.stringify(lines).includes('carol-pw'), 'no password in the log');
  fake.down = false;
  assert.equal(await auth.check({ user: 'carol', secret: 'carol-pw' }), 'carol');
  assert.match(await registry.metrics(), /^wheelhouse_ldap_up 1$/m);
  assert.equal(lines.filter((l) => /LDAP directory reachable again/.test(l.msg)).length, 1);
});

test("a directory user's token: bound to 'directory', refused once a local user of that name exists, and without a directory", async () => {
  const { auth, changelog } = await fixture();
  const carol = (await auth.authenticate({ user: 'carol', secret: 'carol-pw' })).user!;
  const token = auth.issueToken(carol);
  assert.equal(auth.tokens.claims(token)?.[2], DIRECTORY_BINDING);
  assert.equal(await auth.check({ user: 'carol', secret: token }), 'carol');
  assert.equal(await auth.check({ user: 'dave', secret: token }), undefined, "carol's token is not dave's");
  const withoutDirectory = new Authenticator(changelog, auth.tokens);
  assert.equal(await withoutDirectory.check({ user: 'carol', secret: token }), undefined);
  await changelog.write((tx) => createUser(tx, 'carol', { pwhash: localHash }));
  assert.equal(await auth.check({ user: 'carol', secret: token }), undefined, 'the local carol is another account');
  assert.throws(() => withoutDirectory.issueToken(userPrincipalOf('ghost')), /does not exist/);
});

function userPrincipalOf(name: string) {
  return { name, groups: [] };
}

test('wrong directory passwords are throttled like local ones (429); failed lookups of an unreachable directory are not counted', async () => {
  const { auth, fake } = await fixture(0);
  fake.down = true;
  for (let i = 0; i < 8; i++) await assert.rejects(auth.check({ user: 'carol', secret: 'carol-pw' }, '192.0.2.9'), (err: Error) => statusOf(err) === 503);
  fake.down = false;
  assert.equal(await auth.check({ user: 'carol', secret: 'carol-pw' }, '192.0.2.9'), 'carol', 'the outage locked nobody out');
  for (let i = 0; i < 6; i++) assert.equal(await auth.check({ user: 'dave', secret: `guess${i}` }, '203.0.113.9'), undefined);
  await assert.rejects(auth.check({ user: 'dave', secret: 'dave-pw' }, '203.0.113.9'), (err: Error) => statusOf(err) === 429);
});
