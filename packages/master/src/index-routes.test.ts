import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Changelog } from '@wheelhouse/changelog';
import { getIndex } from '@wheelhouse/core';
import { patchIndex, putIndex, removeIndex } from './index-routes.js';
import { assertRefused, writeFixture } from './write-routes.test-helpers.js';

let changelog: Changelog;
before(async () => {
  ({ changelog } = await writeFixture());
});
after(() => changelog.close());

describe('index routes', () => {
  test('PUT by the owner creates the index; anonymous and another user 403 (devpi)', async () => {
    const r = await putIndex({ changelog }, 'alice', { user: 'alice', index: 'staging' }, { bases: 'alice/dev' });
    assert.equal(r.status, 200);
    assert.deepEqual((r.envelope.result as { bases: string[] }).bases, ['alice/dev']);
    assert.ok(getIndex(changelog, 'alice', 'staging'));
    await assertRefused(changelog, putIndex({ changelog }, undefined, { user: 'alice', index: 'other' }, {}), 403);
    await assertRefused(changelog, putIndex({ changelog }, 'bob', { user: 'alice', index: 'other' }, {}), 403);
  });

  test('PUT in a missing user\'s namespace is 404 before any permission check (devpi)', async () => {
    await assertRefused(changelog, putIndex({ changelog }, 'bob', { user: 'ghost', index: 'dev' }, {}), 404, /ghost/);
    await assertRefused(changelog, putIndex({ changelog }, undefined, { user: 'ghost', index: 'dev' }, {}), 404);
  });

  test('PATCH accepts the list form and devpi\'s envelope; a change that changes nothing with error_on_noop is 400', async () => {
    const list = await patchIndex({ changelog }, 'alice', { user: 'alice', index: 'dev' }, ['acl_upload+=bob'], false);
    assert.deepEqual((list.envelope.result as { acl_upload: string[] }).acl_upload, ['alice', 'bob']);
    const env = await patchIndex({ changelog }, 'root', { user: 'alice', index: 'dev' }, { type: 'indexconfig', result: { title: 'T' } }, false);
    assert.equal((env.envelope.result as { title: string }).title, 'T');
    await assertRefused(changelog, patchIndex({ changelog }, 'alice', { user: 'alice', index: 'dev' }, { title: 'T' }, true), 400, /no changes/);
  });

  test('DELETE removes a volatile index (201); a non-volatile one is 403', async () => {
    await putIndex({ changelog }, 'alice', { user: 'alice', index: 'tmp' }, {});
    const r = await removeIndex({ changelog }, 'alice', { user: 'alice', index: 'tmp' });
    assert.equal(r.status, 201);
    assert.equal(getIndex(changelog, 'alice', 'tmp'), undefined);
    await assertRefused(changelog, removeIndex({ changelog }, 'alice', { user: 'alice', index: 'prod' }), 403, /non-volatile/);
  });
});
