import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Changelog } from '@wheelhouse/changelog';
import { mergedReleases, userPrincipal } from '@wheelhouse/core';
import { push } from './push-routes.js';
import { assertRefused, writeFixture } from './write-routes.test-helpers.js';

let changelog: Changelog;
before(async () => {
  ({ changelog } = await writeFixture());
});
after(() => changelog.close());

describe('push routes', () => {
  test('a push copies the release into the target and answers the actionlog', async () => {
    const r = await push({ changelog }, userPrincipal('alice'), { user: 'alice', index: 'dev' }, { name: 'demo', version: '1.0', targetindex: 'alice/prod' });
    assert.equal(r.status, 200);
    assert.equal(r.envelope.type, 'actionlog');
    assert.deepEqual((r.envelope.result as unknown[][])[0], [200, 'register', 'demo', '1.0', '->', 'alice/prod']);
    assert.deepEqual(mergedReleases(changelog, 'alice/prod', 'demo', true).map((x) => x.version), ['1.0']);
  });

  test('an unknown version, a bad body, an unknown source index and a target without upload right are refused', async () => {
    await assertRefused(changelog, push({ changelog }, userPrincipal('alice'), { user: 'alice', index: 'dev' }, { name: 'demo', version: '9.9', targetindex: 'alice/prod' }), 404);
    await assertRefused(changelog, push({ changelog }, userPrincipal('alice'), { user: 'alice', index: 'dev' }, { name: 'demo' }), 400);
    await assertRefused(changelog, push({ changelog }, userPrincipal('alice'), { user: 'alice', index: 'nope' }, { name: 'demo', version: '1.0', targetindex: 'alice/prod' }), 404);
    await assertRefused(changelog, push({ changelog }, undefined, { user: 'alice', index: 'dev' }, { name: 'demo', version: '1.0', targetindex: 'alice/prod' }), 401);
  });
});
