import { after, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Changelog } from '@wheelhouse/changelog';
import { attachFile, projectExists, userPrincipal } from '@wheelhouse/core';
import { removeFile, removeProject, removeVersion } from './delete-routes.js';
import { WHEEL_PATH, assertRefused, writeFixture } from './write-routes.test-helpers.js';

let changelog: Changelog;
beforeEach(async () => {
  await changelog?.close();
  ({ changelog } = await writeFixture());
});
after(() => changelog.close());

describe('delete routes', () => {
  test('the owner deletes a file (the last one takes the project with it); anonymous and another user 403 (devpi)', async () => {
    await assertRefused(changelog, removeFile({ changelog }, undefined, { user: 'alice', index: 'dev', path: WHEEL_PATH }, false), 403);
    await assertRefused(changelog, removeFile({ changelog }, userPrincipal('bob'), { user: 'alice', index: 'dev', path: WHEEL_PATH }, false), 403);
    const r = await removeFile({ changelog }, userPrincipal('alice'), { user: 'alice', index: 'dev', path: WHEEL_PATH }, false);
    assert.equal(r.envelope.message, `package 'alice/dev/+f/${WHEEL_PATH}' deleted`);
    assert.equal(projectExists(changelog, 'alice/dev', 'demo'), false);
  });

  test('a project is deleted under its normalised name; a version of a non-volatile index only with force', async () => {
    const r = await removeProject({ changelog }, userPrincipal('root'), { user: 'alice', index: 'dev', project: 'Demo' }, false);
    assert.equal(r.envelope.message, 'project demo deleted from stage alice/dev');
    await changelog.write((tx) => attachFile(tx, 'alice/prod', { name: 'demo', version: '2.0' }, { filename: 'demo-2.0.tar.gz', sha256: 'b'.repeat(64), size: 1 }, 'releasefile', 'alice'));
    await assertRefused(changelog, removeVersion({ changelog }, userPrincipal('alice'), { user: 'alice', index: 'prod', project: 'demo', version: '2.0' }, false), 403, /non-volatile/);
    const forced = await removeVersion({ changelog }, userPrincipal('alice'), { user: 'alice', index: 'prod', project: 'demo', version: '2.0' }, true);
    assert.equal(forced.envelope.message, "project 'demo' version '2.0' deleted");
    assert.ok(forced.serial !== null);
  });
});
