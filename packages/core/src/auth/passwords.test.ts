import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Changelog } from '@wheelhouse/changelog';
import { createUser, modifyUser } from '../model/users.js';
import { hashPassword, verifyPassword, VerificationCache } from './passwords.js';
import { Authenticator, parseCredentials } from './authenticator.js';
import { TokenSigner } from './tokens.js';

const basic = (user: string, secret: string): string => Buffer.from(`${user}:${secret}`).toString('base64');

test('hashPassword gives an argon2id PHC string that verifies only the right password', async () => {
  const h = await hashPassword('s3cret');
  assert.match(h, /^\$argon2id\$v=19\$/);
  assert.notEqual(await hashPassword('s3cret'), h, 'salted');
  assert.equal(await verifyPassword('s3cret', h), true);
  assert.equal(await verifyPassword('S3cret', h), false);
  assert.equal(await verifyPassword('', h), false);
  assert.equal(await verifyPassword('s3cret', 'not a hash'), false);
});

test('VerificationCache: right password true (and cached), wrong password false (not cached)', async () => {
  const cache = new VerificationCache();
  const h = await hashPassword('pw');
  assert.equal(await cache.verify('alice', 'wrong', h), false);
  assert.equal(cache.size, 0);
  assert.equal(await cache.verify('alice', 'pw', h), true);
  assert.equal(cache.size, 1);
  assert.equal(await cache.verify('alice', 'pw', h), true);
  assert.equal(cache.size, 1);
  // a cached success for alice does not make another password or user pass
  assert.equal(await cache.verify('alice', 'pw2', h), false);
  assert.equal(await cache.verify('bob', 'pw', await hashPassword('other')), false);
});

test('VerificationCache: once the stored hash changes, the cached verification no longer counts', async () => {
  const cache = new VerificationCache();
  const old = await hashPassword('old');
  assert.equal(await cache.verify('alice', 'old', old), true);
  const changed = await hashPassword('new');
  assert.equal(await cache.verify('alice', 'old', changed), false);
  assert.equal(cache.size, 0, 'the stale entry is dropped');
  assert.equal(await cache.verify('alice', 'new', changed), true);
});

test('VerificationCache: entries expire after the TTL and the oldest is dropped beyond maxEntries', async () => {
  const cache = new VerificationCache({ ttlMs: 1000, maxEntries: 2 });
  const h = await hashPassword('pw');
  assert.equal(await cache.verify('a', 'pw', h, 0), true);
  assert.equal(await cache.verify('b', 'pw', h, 0), true);
  assert.equal(await cache.verify('c', 'pw', h, 0), true);
  assert.equal(cache.size, 2);
  // past the TTL argon2 runs again and still says yes for the right password
  assert.equal(await cache.verify('c', 'pw', h, 5000), true);
  assert.equal(cache.size, 2);
});

test('Authenticator: password and token both authenticate; a password change invalidates the cached password', async () => {
  const cl = await Changelog.openInMemory();
  await cl.write((tx) => {
    createUser(tx, 'alice', {});
    createUser(tx, 'nopw', {});
  });
  const oldHash = await hashPassword('old');
  await cl.write((tx) => modifyUser(tx, 'alice', { pwhash: oldHash }));
  const auth = new Authenticator(cl, new TokenSigner(Buffer.alloc(32, 7)));
  assert.equal(await auth.check({ user: 'alice', secret: 'old' }), 'alice');
  assert.equal(await auth.check({ user: 'alice', secret: 'old' }), 'alice');
  assert.equal(await auth.check({ user: 'alice', secret: 'wrong' }), undefined);
  assert.equal(await auth.check({ user: 'ghost', secret: 'old' }), undefined);
  assert.equal(await auth.check({ user: 'nopw', secret: '' }), undefined, 'a user without a password cannot log in with one');
  const token = auth.issueToken('alice');
  assert.equal(await auth.check({ user: 'alice', secret: token }), 'alice');
  assert.equal(await auth.check({ user: 'nopw', secret: token }), undefined, "alice's token is not nopw's");

  const newHash = await hashPassword('new');
  await cl.write((tx) => modifyUser(tx, 'alice', { pwhash: newHash }));
  assert.equal(await auth.check({ user: 'alice', secret: 'old' }), undefined);
  assert.equal(await auth.check({ user: 'alice', secret: 'new' }), 'alice');

  // headers: X-Devpi-Auth first, then Basic
  assert.equal((await auth.principal({ 'x-devpi-auth': basic('alice', 'new') }))?.name, 'alice');
  assert.equal((await auth.principal({ authorization: `Basic ${basic('alice', 'new')}` }))?.name, 'alice');
  assert.equal((await auth.principal({ authorization: `Basic ${basic('alice', 'old')}` }))?.name, undefined);
  assert.equal((await auth.principal({}))?.name, undefined);
  // a deleted user's token no longer counts
  await cl.write((tx) => tx.delete('user/alice'));
  assert.equal(await auth.check({ user: 'alice', secret: token }), undefined);
});

test('parseCredentials: X-Devpi-Auth wins over Authorization; passwords may contain colons; junk is ignored', () => {
  assert.deepEqual(parseCredentials({ 'x-devpi-auth': basic('a', 'b:c'), authorization: `Basic ${basic('x', 'y')}` }), { user: 'a', secret: 'b:c' });
  assert.deepEqual(parseCredentials({ authorization: `basic ${basic('x', 'y')}` }), { user: 'x', secret: 'y' });
  assert.equal(parseCredentials({ authorization: 'Bearer abc' }), undefined);
  assert.equal(parseCredentials({ authorization: `Basic ${Buffer.from('nocolon').toString('base64')}` }), undefined);
  assert.equal(parseCredentials({ authorization: `Basic ${Buffer.from(':pw').toString('base64')}` }), undefined);
});
