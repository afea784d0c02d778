// The mirror policy the read path asks on every simple page request is kept per (stage, project)
// and made again after any commit that could change it: an index config, or the project itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Changelog } from '@wheelhouse/changelog';
import { createUser } from '../model/users.js';
import { createIndex, modifyIndex } from '../model/indexes.js';
import { registerRelease } from '../model/releases.js';
import { SimplePages } from './simple-pages.js';

async function setup(): Promise<{ cl: Changelog; pages: SimplePages }> {
  const cl = await Changelog.openInMemory();
  await cl.write((tx) => {
    createUser(tx, 'u', {});
    createIndex(tx, 'u', 'm', { type: 'mirror', mirror_url: 'http://127.0.0.1:9/simple' });
    createIndex(tx, 'u', 'dev', { bases: ['u/m'] });
  });
  return { cl, pages: new SimplePages(cl) };
}

test('the mirror policy is kept between requests and follows a new private release of the name', async () => {
  const { cl, pages } = await setup();
  const first = pages.mirrorPolicy('u/dev', 'pkg');
  assert.deepEqual(first.mirrors, ['u/m']);
  assert.equal(first.allowed, true);
  assert.equal(pages.mirrorPolicy('u/dev', 'pkg'), first, 'kept: the same object');
  await cl.write((tx) => registerRelease(tx, 'u/dev', { name: 'pkg', version: '1.0' }));
  const after = pages.mirrorPolicy('u/dev', 'pkg');
  assert.equal(after.allowed, false, 'a private release of the name shuts the mirror out');
  assert.equal(after.privateStage, 'u/dev');
  assert.equal(pages.mirrorPolicy('u/dev', 'other').allowed, true, 'other names still mirrored');
  pages.close();
});

test('the mirror policy follows an index config change (whitelist, bases)', async () => {
  const { cl, pages } = await setup();
  await cl.write((tx) => registerRelease(tx, 'u/dev', { name: 'pkg', version: '1.0' }));
  assert.equal(pages.mirrorPolicy('u/dev', 'pkg').allowed, false);
  await cl.write((tx) => modifyIndex(tx, 'u', 'dev', { mirror_whitelist: ['pkg'] }));
  const listed = pages.mirrorPolicy('u/dev', 'pkg');
  assert.equal(listed.allowed, true);
  assert.equal(listed.whitelistedBy, 'u/dev');
  await cl.write((tx) => modifyIndex(tx, 'u', 'dev', { bases: [] }));
  assert.deepEqual(pages.mirrorPolicy('u/dev', 'pkg').mirrors, []);
  pages.close();
});
