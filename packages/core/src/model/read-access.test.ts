import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Changelog } from '@wheelhouse/changelog';
import { statusOf } from '@wheelhouse/http';
import { userPrincipal } from '../acl.js';
import { WheelhouseError } from '../errors.js';
import { createUser } from './users.js';
import { checkIndexConfigInput, createIndex, indexView, modifyIndex } from './indexes.js';
import { assertMayRead, mayRead, ReadAccess, readRequirement } from './read-access.js';

async function cluster(): Promise<Changelog> {
  const cl = await Changelog.openInMemory();
  await cl.write((tx) => {
    for (const n of ['alice', 'bob', 'carol']) createUser(tx, n, {});
    createIndex(tx, 'alice', 'private', { acl_read: ['bob'] });
    createIndex(tx, 'alice', 'public', { bases: ['alice/private'] });
    createIndex(tx, 'alice', 'open', {});
    createIndex(tx, 'alice', 'mirror', { type: 'mirror', mirror_url: 'http://127.0.0.1:1/simple/', acl_read: ':AUTHENTICATED:' });
  });
  return cl;
}

function statusOfThrow(fn: () => void): number {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof WheelhouseError);
    return statusOf(err);
  }
  return 200;
}

test('acl_read defaults to everyone (not shown, as devpi shows no such key) and is shown once set, on stages and mirrors', async () => {
  const cl = await cluster();
  assert.equal(indexView(cl, 'alice', 'open', true)['acl_read'], undefined);
  assert.deepEqual(indexView(cl, 'alice', 'private', true)['acl_read'], ['bob']);
  assert.deepEqual(indexView(cl, 'alice', 'mirror', true)['acl_read'], [':AUTHENTICATED:']);
  assert.deepEqual(readRequirement(cl, 'alice/open'), { open: true });
  assert.equal(readRequirement(cl, 'alice/nothing'), undefined);
});

test('acl_read: the listed user, the owner and root read; anonymous and others do not', async () => {
  const cl = await cluster();
  assert.equal(mayRead(cl, 'alice/private', userPrincipal('bob')), true);
  assert.equal(mayRead(cl, 'alice/private', userPrincipal('alice')), true);
  assert.equal(mayRead(cl, 'alice/private', userPrincipal('root')), true);
  assert.equal(mayRead(cl, 'alice/private', userPrincipal('carol')), false);
  assert.equal(mayRead(cl, 'alice/private', undefined), false);
  assert.equal(mayRead(cl, 'alice/mirror', undefined), false);
  assert.equal(mayRead(cl, 'alice/mirror', userPrincipal('carol')), true);
  assert.equal(statusOfThrow(() => assertMayRead(cl, 'alice/private', undefined)), 401);
  assert.equal(statusOfThrow(() => assertMayRead(cl, 'alice/private', userPrincipal('carol'))), 403);
  assert.equal(statusOfThrow(() => assertMayRead(cl, 'alice/private', userPrincipal('bob'))), 200);
});

test('inheritance: an open index whose base is restricted takes the base read right (it does not leak the base)', async () => {
  const cl = await cluster();
  assert.equal(mayRead(cl, 'alice/public', undefined), false);
  assert.equal(mayRead(cl, 'alice/public', userPrincipal('carol')), false);
  assert.equal(mayRead(cl, 'alice/public', userPrincipal('bob')), true);
  const req = readRequirement(cl, 'alice/public');
  assert.ok(req && !req.open);
  assert.deepEqual(req.rules.map((r) => r.stage), ['alice/private']);
  assert.match((() => { try { assertMayRead(cl, 'alice/public', userPrincipal('carol')); } catch (e) { return (e as Error).message; } return ''; })(), /inherits 'alice\/private'/);
});

test('PATCH both forms: object and devpi-client list (=, +=, -=), on stages and mirrors; limits and defaults', async () => {
  const cl = await cluster();
  await cl.write((tx) => modifyIndex(tx, 'alice', 'open', { acl_read: 'bob, carol' }));
  assert.deepEqual(indexView(cl, 'alice', 'open', true)['acl_read'], ['bob', 'carol']);
  await cl.write((tx) => modifyIndex(tx, 'alice', 'open', ['acl_read-=carol', 'acl_read+=:authenticated:']));
  assert.deepEqual(indexView(cl, 'alice', 'open', true)['acl_read'], ['bob', ':AUTHENTICATED:']);
  await cl.write((tx) => modifyIndex(tx, 'alice', 'mirror', ['acl_read=:ANONYMOUS:']));
  assert.deepEqual(indexView(cl, 'alice', 'mirror', true)['acl_read'], [':ANONYMOUS:']);
  await cl.write((tx) => modifyIndex(tx, 'alice', 'mirror', ['acl_read+=bob']));
  assert.deepEqual(indexView(cl, 'alice', 'mirror', true)['acl_read'], [':ANONYMOUS:', 'bob']);
  await assert.rejects(cl.write((tx) => modifyIndex(tx, 'alice', 'open', { acl_read: Array.from({ length: 1001 }, (_, i) => `u${i}`) })), /"acl_read" has 1001 entries/);
  await assert.rejects(cl.write((tx) => modifyIndex(tx, 'alice', 'open', { acl_read: ['x'.repeat(257)] })), /"acl_read" is 257 characters/);
  await assert.rejects(cl.write((tx) => modifyIndex(tx, 'alice', 'open', ['acl_read-='])), /Default values can't be removed/);
  // the routes check the JSON shape first (PUT and PATCH object form)
  assert.throws(() => checkIndexConfigInput({ acl_read: 5 }), /acl_read/);
});

test('ReadAccess caches per index and follows config commits (a base made private closes its heirs)', async () => {
  const cl = await cluster();
  const access = new ReadAccess(cl);
  try {
    assert.deepEqual(access.requirement('alice/open'), { open: true });
    await cl.write((tx) => {
      createUser(tx, 'dave', {});
      createIndex(tx, 'dave', 'heir', { bases: ['alice/open'] });
    });
    assert.equal(access.mayRead('dave/heir', undefined), true);
    await cl.write((tx) => modifyIndex(tx, 'alice', 'open', { acl_read: ['carol'] }));
    assert.equal(access.mayRead('dave/heir', undefined), false);
    assert.equal(access.mayRead('dave/heir', userPrincipal('carol')), true);
    assert.equal(access.mayRead('dave/heir', userPrincipal('dave')), false, "the heir's owner still needs the base's read right");
    assert.equal(access.mayRead('alice/none', userPrincipal('root')), false);
  } finally {
    access.close();
  }
});
