import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Changelog } from '@wheelhouse/changelog';
import type { Authenticator } from '@wheelhouse/core';
import { login, patchUser, putUser, removeUser } from './user-routes.js';
import { assertRefused, writeFixture } from './write-routes.test-helpers.js';

let changelog: Changelog;
let auth: Authenticator;
before(async () => {
  ({ changelog, auth } = await writeFixture());
});
after(() => changelog.close());

describe('user routes', () => {
  test('login: a token for the right password; a wrong one is 401', async () => {
    const ok = await login({ changelog, auth }, { user: 'alice', password: 'alice-pw' });
    assert.equal(ok.status, 200);
    assert.equal(ok.serial, null, 'a login commits nothing');
    const token = (ok.envelope.result as { password: string }).password;
    assert.equal(await auth.check({ user: 'alice', secret: token }), 'alice');
    await assertRefused(changelog, login({ changelog, auth }, { user: 'alice', password: 'nope' }), 401, /wrong password for user alice/);
  });

  test('login: wrong passwords from one address reach 429 with Retry-After; a password change revokes the old token', async () => {
    for (let i = 0; i < 6; i++) await assertRefused(changelog, login({ changelog, auth }, { user: 'bob', password: `guess${i}` }, '203.0.113.9'), 401);
    await assertRefused(changelog, login({ changelog, auth }, { user: 'bob', password: 'bob-pw' }, '203.0.113.9'), 429, /too many failed logins .*retry in \d+ s/);
    const ok = await login({ changelog, auth }, { user: 'alice', password: 'alice-pw' }, '198.51.100.3');
    const token = (ok.envelope.result as { password: string }).password;
    const changed = await patchUser({ changelog, auth }, 'alice', 'alice', { password: 'alice-pw' });
    assert.equal(await auth.check({ user: 'alice', secret: token }), undefined, 'the token from before the change is revoked');
    assert.equal(await auth.check({ user: 'alice', secret: (changed.envelope.result as { password: string }).password }), 'alice');
  });

  test('PUT creates the user (201, committed, no hash shown); again is 409', async () => {
    const before = changelog.head;
    const r = await putUser({ changelog }, 'carol', { password: 'pw', email: 'c@example.org' });
    assert.equal(r.status, 201);
    assert.equal(r.serial, before + 1);
    assert.equal((r.envelope.result as Record<string, unknown>)['email'], 'c@example.org');
    assert.equal((r.envelope.result as Record<string, unknown>)['pwhash'], undefined);
    await assertRefused(changelog, putUser({ changelog }, 'carol', { password: 'pw' }), 409);
  });

  test('PATCH by the user changes the profile; by another user or anonymous 403 (devpi)', async () => {
    const r = await patchUser({ changelog, auth }, 'alice', 'alice', { title: 'A' });
    assert.deepEqual(r.envelope, { message: 'user updated' });
    assert.ok(r.serial !== null);
    await assertRefused(changelog, patchUser({ changelog, auth }, 'bob', 'alice', { title: 'B' }), 403);
    await assertRefused(changelog, patchUser({ changelog, auth }, undefined, 'alice', { title: 'B' }), 403);
  });

  test('PATCH of a missing user is 404 before any permission check (devpi)', async () => {
    await assertRefused(changelog, patchUser({ changelog, auth }, 'bob', 'ghost', { title: 'G' }), 404, /ghost/);
  });

  test('PATCH {"password": ""} sets the empty password (devpi-init leaves root so) and answers a new token', async () => {
    // a user of its own: bob's logins are throttled by the guessing test above
    await putUser({ changelog }, 'pat', { password: 'pat-pw' });
    const r = await patchUser({ changelog, auth }, 'pat', 'pat', { password: '' });
    assert.equal(r.envelope.type, 'userpassword');
    assert.equal(await auth.check({ user: 'pat', secret: '' }), 'pat');
    assert.equal(await auth.check({ user: 'pat', secret: 'pat-pw' }), undefined, 'the old password no longer works');
  });

  test('DELETE by root removes a user; root itself cannot be deleted', async () => {
    await putUser({ changelog }, 'dave', { password: 'pw' });
    const r = await removeUser({ changelog }, 'root', 'dave');
    assert.equal(r.envelope.message, "user 'dave' deleted");
    await assertRefused(changelog, removeUser({ changelog }, 'bob', 'dave'), 403);
  });
});
