import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Changelog } from '@wheelhouse/changelog';
import { statusOf } from '@wheelhouse/http';
import { Authenticator } from './authenticator.js';
import { LoginThrottle } from './login-throttle.js';
import { hashPassword } from './passwords.js';
import { REPLICA_SUBJECT, TokenSigner, replicaTokenSigner } from './tokens.js';
import { createUser, deleteUser, getUser, modifyUser, userView } from '../model/users.js';
import { keys } from '../model/keys.js';
import type { UserRecord } from '../model/records.js';

const secret = Buffer.alloc(32, 9);
let hashes: { one: string; two: string };
before(async () => {
  hashes = { one: await hashPassword('pw-one'), two: await hashPassword('pw-two') };
});

async function fixture(throttle?: LoginThrottle): Promise<{ changelog: Changelog; auth: Authenticator }> {
  const changelog = await Changelog.openInMemory();
  await changelog.write((tx) => {
    createUser(tx, 'alice', { pwhash: hashes.one });
    createUser(tx, 'bob', { pwhash: hashes.two });
  });
  return { changelog, auth: new Authenticator(changelog, new TokenSigner(secret), undefined, throttle) };
}

// issue 11: a login token survived a password change and authenticated a re-created account of the same name
test('a password change revokes every token issued before; the new token works', async () => {
  const { changelog, auth } = await fixture();
  const old = auth.issueToken('alice');
  assert.equal(await auth.check({ user: 'alice', secret: old }), 'alice');
  await changelog.write((tx) => modifyUser(tx, 'alice', { pwhash: hashes.two }));
  assert.equal(await auth.check({ user: 'alice', secret: old }), undefined, 'the old token is revoked');
  const fresh = auth.issueToken('alice');
  assert.equal(await auth.check({ user: 'alice', secret: fresh }), 'alice');
  assert.equal(getUser(changelog, 'alice')?.pwgen, 1);
  // a profile change is not a password change
  await changelog.write((tx) => modifyUser(tx, 'alice', { title: 'A' }));
  assert.equal(await auth.check({ user: 'alice', secret: fresh }), 'alice');
  await changelog.close();
});

test('deleting and re-creating a user of the same name (same password hash, same second) revokes the old tokens', async () => {
  const { changelog, auth } = await fixture();
  const old = auth.issueToken('bob');
  await changelog.write((tx) => deleteUser(tx, 'bob'));
  assert.equal(await auth.check({ user: 'bob', secret: old }), undefined, 'no user, no token');
  await changelog.write((tx) => createUser(tx, 'bob', { pwhash: hashes.two }));
  assert.equal(await auth.check({ user: 'bob', secret: old }), undefined, 'the re-created bob is another account');
  assert.equal(await auth.check({ user: 'bob', secret: 'pw-two' }), 'bob');
  await changelog.close();
});

test('a user record written before uid/pwgen existed authenticates by password and by token, and a password change still revokes', async () => {
  const { changelog, auth } = await fixture();
  const legacy: UserRecord = { username: 'carol', created: '2024-01-02T03:04:05Z', pwhash: hashes.one };
  await changelog.write((tx) => tx.set(keys.user('carol'), legacy));
  assert.equal(await auth.check({ user: 'carol', secret: 'pw-one' }), 'carol');
  const token = auth.issueToken('carol');
  assert.equal(await auth.check({ user: 'carol', secret: token }), 'carol');
  await changelog.write((tx) => modifyUser(tx, 'carol', { pwhash: hashes.two }));
  assert.equal(await auth.check({ user: 'carol', secret: token }), undefined);
  await changelog.close();
});

test('an unbound login token (the format before issue 11) no longer authenticates; replica tokens stay unbound and valid', async () => {
  const { changelog, auth } = await fixture();
  assert.equal(await auth.check({ user: 'alice', secret: new TokenSigner(secret).issue('alice') }), undefined);
  const replica = replicaTokenSigner(secret);
  assert.equal(replica.verify(replica.issue(REPLICA_SUBJECT, 300), REPLICA_SUBJECT), REPLICA_SUBJECT);
  await changelog.close();
});

test('the public user view never shows uid or pwgen', async () => {
  const { changelog } = await fixture();
  await changelog.write((tx) => modifyUser(tx, 'alice', { pwhash: hashes.two }));
  const view = userView(changelog, 'alice');
  for (const k of ['pwhash', 'uid', 'pwgen']) assert.ok(!(k in view), `${k} hidden`);
  await changelog.close();
});

test('wrong passwords for alice from one address: the next attempt, even with the right password, is 429; bob from another address and alice from a known one are unaffected; a correct login resets', async () => {
  const throttle = new LoginThrottle({ freeFailures: 3, baseDelayMs: 60_000 });
  const { changelog, auth } = await fixture(throttle);
  assert.equal(await auth.check({ user: 'alice', secret: 'pw-one' }, '192.0.2.7'), 'alice', 'alice logs in from home');
  for (let i = 0; i < 4; i++) assert.equal(await auth.check({ user: 'alice', secret: `guess${i}` }, '203.0.113.5'), undefined);
  await assert.rejects(auth.check({ user: 'alice', secret: 'pw-one' }, '203.0.113.5'), (err: Error & { headers?: Record<string, string> }) => {
    assert.equal(statusOf(err), 429);
    assert.equal(err.headers?.['Retry-After'], '60');
    assert.match(err.message, /retry in 60 s/);
    return true;
  });
  await assert.rejects(auth.check({ user: 'alice', secret: 'pw-one' }, '198.51.100.1'), /too many failed logins for user 'alice'/, 'an unknown address waits too');
  assert.equal(await auth.check({ user: 'bob', secret: 'pw-two' }, '198.51.100.1'), 'bob', 'another user from another address');
  assert.equal(await auth.check({ user: 'alice', secret: 'pw-one' }, '192.0.2.7'), 'alice', "alice's known address goes on (twine's Basic auth)");
  // that correct login reset alice's counter: the unknown address is admitted again
  assert.equal(await auth.check({ user: 'alice', secret: 'pw-one' }, '198.51.100.1'), 'alice');
  // tokens are never throttled (a signed token is no password guess)
  const token = auth.issueToken('alice');
  assert.equal(await auth.check({ user: 'alice', secret: token }, '203.0.113.5'), 'alice');
  await changelog.close();
});

test('guesses sent in parallel cannot all slip past the throttle: at most freeFailures + 1 reach argon2', async () => {
  const throttle = new LoginThrottle({ freeFailures: 3, baseDelayMs: 60_000 });
  const { changelog, auth } = await fixture(throttle);
  const results = await Promise.allSettled(Array.from({ length: 16 }, (_, i) => auth.check({ user: 'alice', secret: `guess${i}` }, '203.0.113.5')));
  const evaluated = results.filter((r) => r.status === 'fulfilled').length;
  const refused = results.filter((r) => r.status === 'rejected' && statusOf(r.reason) === 429).length;
  assert.equal(evaluated + refused, 16);
  assert.ok(evaluated <= 4, `${evaluated} of 16 parallel guesses were checked`);
  await changelog.close();
});

// issue 13 CI: eight workers logging in at once from 127.0.0.1 were refused 429 "too many failed logins"
test('correct passwords of different users checked in parallel from one address all succeed', async () => {
  const { changelog, auth } = await fixture(new LoginThrottle({ freeFailures: 2 }));
  await changelog.write((tx) => {
    for (let i = 0; i < 12; i++) createUser(tx, `ci${i}`, { pwhash: hashes.one });
  });
  const who = await Promise.all(Array.from({ length: 12 }, (_, i) => auth.check({ user: `ci${i}`, secret: 'pw-one' }, '127.0.0.1')));
  assert.deepEqual(who, Array.from({ length: 12 }, (_, i) => `ci${i}`));
  await changelog.close();
});

test('principal() counts against the last X-Forwarded-For entry (the proxy\'s), not entries the client wrote', async () => {
  const throttle = new LoginThrottle({ freeFailures: 1 });
  const { changelog, auth } = await fixture(throttle);
  const basic = (pw: string, xff: string) => ({ authorization: `Basic ${Buffer.from(`alice:${pw}`).toString('base64')}`, 'x-forwarded-for': xff });
  for (let i = 0; i < 2; i++) assert.equal(await auth.principal(basic('nope', `10.9.9.${i}, 203.0.113.5`), '127.0.0.1'), undefined);
  await assert.rejects(auth.principal(basic('nope', '10.9.9.77, 203.0.113.5'), '127.0.0.1'), /too many failed logins from 203\.0\.113\.5/);
  await changelog.close();
});
