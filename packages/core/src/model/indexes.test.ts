import type { StageConfig } from './records.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Changelog } from '@wheelhouse/changelog';
import { WheelhouseError } from '../errors.js';
import { createUser } from './users.js';
import { DEFAULT_MIRROR_CACHE_EXPIRY_SECONDS, createIndex, deleteIndex, getIndex, indexView, mirrorBaseUrl, mirrorCacheExpiry, modifyIndex, resolutionOrder } from './indexes.js';
import { attachFile } from './releases.js';
import { keys } from './keys.js';
import { statusOf } from '@wheelhouse/http';

/** Asserts `p` rejects with a WheelhouseError of `status` whose message matches `message`. */
async function rejectsWith(p: Promise<unknown>, status: number, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof WheelhouseError, `expected a WheelhouseError, got ${String(err)}`);
    assert.equal(statusOf(err), status, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

async function withUsers(...names: string[]): Promise<Changelog> {
  const cl = await Changelog.openInMemory();
  await cl.write((tx) => {
    for (const n of names) createUser(tx, n, {});
  });
  return cl;
}

test('createIndex: devpi defaults for a stage (§3.1), stored as returned', async () => {
  const cl = await withUsers('alice');
  const { result, serial } = await cl.write((tx) => createIndex(tx, 'alice', 'dev', {}));
  const expected = {
    type: 'stage',
    bases: [],
    volatile: true,
    acl_upload: ['alice'],
    acl_toxresult_upload: [':ANONYMOUS:'],
    mirror_whitelist: [],
    mirror_whitelist_inheritance: 'intersection',
  };
  assert.deepEqual(result, expected);
  assert.equal(serial, 1);
  assert.deepEqual(cl.get(keys.index('alice', 'dev')), expected);
  // the JSON view shows the read ACL's default (everyone), stored only once set (issue 15)
  assert.deepEqual(indexView(cl, 'alice', 'dev'), { ...expected, projects: [] });
  assert.deepEqual(indexView(cl, 'alice', 'dev', true), expected);
});

test('createIndex: string forms are normalised (volatile "no", comma lists, special ACL names, /base/)', async () => {
  const cl = await withUsers('alice');
  await cl.write((tx) => createIndex(tx, 'alice', 'base', {}));
  const { result } = await cl.write((tx) =>
    createIndex(tx, 'alice', 'dev', {
      volatile: 'no',
      acl_upload: 'alice, :authenticated:, alice',
      bases: '/alice/base/',
      mirror_whitelist: ['Wh_Demo.Mixed-Case', '*'],
      title: 'Dev',
    }),
  );
  assert.equal(result.volatile, false);
  assert.deepEqual((result as StageConfig).acl_upload, ['alice', ':AUTHENTICATED:']);
  assert.deepEqual((result as StageConfig).bases, ['alice/base']);
  assert.deepEqual((result as StageConfig).mirror_whitelist, ['wh-demo-mixed-case', '*']);
  assert.equal(result.title, 'Dev');
});

test('createIndex refuses: existing (409), unknown user (404), bad name (400), other type (400), bad volatile (400)', async () => {
  const cl = await withUsers('alice');
  await cl.write((tx) => createIndex(tx, 'alice', 'dev', {}));
  await rejectsWith(cl.write((tx) => createIndex(tx, 'alice', 'dev', {})), 409, /exists/);
  await rejectsWith(cl.write((tx) => createIndex(tx, 'nobody', 'dev', {})), 404, /user 'nobody'/);
  await rejectsWith(cl.write((tx) => createIndex(tx, 'alice', '+simple', {})), 400, /invalid index name/);
  await rejectsWith(cl.write((tx) => createIndex(tx, 'alice', 'a b', {})), 400, /invalid index name/);
  await rejectsWith(cl.write((tx) => createIndex(tx, 'alice', 'mir', { type: 'plugin' })), 400, /unknown index type/);
  await rejectsWith(cl.write((tx) => createIndex(tx, 'alice', 'x', { volatile: 'maybe' })), 400, /volatile/);
  assert.equal(getIndex(cl, 'alice', 'x'), undefined);
});

test('a base that does not exist is refused (400) on create and on PATCH', async () => {
  const cl = await withUsers('alice');
  await rejectsWith(cl.write((tx) => createIndex(tx, 'alice', 'dev', { bases: ['alice/nope'] })), 400, /base index 'alice\/nope' does not exist/);
  await cl.write((tx) => createIndex(tx, 'alice', 'dev', {}));
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'dev', ['bases+=alice/nope'])), 400, /does not exist/);
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'dev', { bases: 'nonsense' })), 400, /invalid base index spec/);
  assert.deepEqual((getIndex(cl, 'alice', 'dev') as StageConfig | undefined)?.bases, []);
});

test('PATCH object form: partial update, type cannot change, projects ignored', async () => {
  const cl = await withUsers('alice');
  await cl.write((tx) => createIndex(tx, 'alice', 'base', {}));
  await cl.write((tx) => createIndex(tx, 'alice', 'dev', { acl_upload: ['alice', 'bob'] }));
  const { result } = await cl.write((tx) => modifyIndex(tx, 'alice', 'dev', { title: 'T', volatile: false, bases: ['alice/base'], projects: ['x'] }));
  assert.equal(result.title, 'T');
  assert.equal(result.volatile, false);
  assert.deepEqual((result as StageConfig).bases, ['alice/base']);
  assert.deepEqual((result as StageConfig).acl_upload, ['alice', 'bob'], 'keys not named stay as they were');
  assert.equal((result as unknown as Record<string, unknown>)['projects'], undefined);
  assert.deepEqual(getIndex(cl, 'alice', 'dev'), result);
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'dev', { type: 'mirror' })), 400, /'type' of an index can't be changed/);
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'nope', { title: 'x' })), 404);
});

test('PATCH list form (devpi-client): bases+=, acl_upload+= / -=, volatile=False', async () => {
  const cl = await withUsers('alice');
  await cl.write((tx) => createIndex(tx, 'alice', 'base', {}));
  await cl.write((tx) => createIndex(tx, 'alice', 'dev', {}));
  const { result } = await cl.write((tx) =>
    modifyIndex(tx, 'alice', 'dev', ['bases+=alice/base', 'acl_upload+=bob', 'acl_upload+=:authenticated:', 'acl_upload-=alice', 'volatile=False', 'title=My Dev']),
  );
  assert.deepEqual((result as StageConfig).bases, ['alice/base']);
  assert.deepEqual((result as StageConfig).acl_upload, ['bob', ':AUTHENTICATED:']);
  assert.equal(result.volatile, false);
  assert.equal(result.title, 'My Dev');
  // += of a value already there changes nothing
  const again = await cl.write((tx) => modifyIndex(tx, 'alice', 'dev', ['bases+=alice/base']));
  assert.equal(again.serial, null);
  assert.deepEqual((again.result as StageConfig).bases, ['alice/base']);
  // key=value replaces a whole list (comma-separated)
  const set = await cl.write((tx) => modifyIndex(tx, 'alice', 'dev', ['acl_upload=alice,carol', 'volatile=yes']));
  assert.deepEqual((set.result as StageConfig).acl_upload, ['alice', 'carol']);
  assert.equal(set.result.volatile, true);
});

test('PATCH list form: -= of a missing value, key-= of a default key, unknown key → 400; key-= drops a free key', async () => {
  const cl = await withUsers('alice');
  await cl.write((tx) => createIndex(tx, 'alice', 'dev', { title: 'T', description: 'D' }));
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'dev', ['acl_upload-=carol'])), 400, /carol/);
  for (const key of ['bases', 'acl_upload', 'volatile', 'mirror_whitelist_inheritance', 'type']) {
    await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'dev', [`${key}-=`])), 400, /Default values can't be removed/);
  }
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'dev', ['colour=blue'])), 400, /unknown key 'colour'/);
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'dev', ['title+=x'])), 400, /not a list/);
  const { result } = await cl.write((tx) => modifyIndex(tx, 'alice', 'dev', ['title-=']));
  assert.equal(result.title, undefined);
  assert.equal(result.description, 'D');
  // a failed op list leaves the index as it was (all or nothing)
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'dev', ['description-=', 'acl_upload-=nobody'])), 400);
  assert.equal(getIndex(cl, 'alice', 'dev')?.description, 'D');
});

test('PATCH with error_on_noop: 400 when nothing would change', async () => {
  const cl = await withUsers('alice');
  await cl.write((tx) => createIndex(tx, 'alice', 'dev', {}));
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'dev', { volatile: true }, true)), 400, /no changes/);
  const { serial } = await cl.write((tx) => modifyIndex(tx, 'alice', 'dev', { volatile: true }));
  assert.equal(serial, null, 'a no-op writes no record');
});

test('bases cycles are refused: self, a→b→a, a→b→c→a', async () => {
  const cl = await withUsers('alice');
  await cl.write((tx) => {
    createIndex(tx, 'alice', 'a', {});
    createIndex(tx, 'alice', 'b', { bases: ['alice/a'] });
    createIndex(tx, 'alice', 'c', { bases: ['alice/b'] });
  });
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'a', ['bases+=alice/a'])), 400);
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'a', { bases: ['alice/b'] })), 400, /cycle/);
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'a', ['bases+=alice/c'])), 400, /cycle/);
  assert.deepEqual((getIndex(cl, 'alice', 'a') as StageConfig | undefined)?.bases, []);
  // a diamond is not a cycle
  await cl.write((tx) => createIndex(tx, 'alice', 'd', { bases: ['alice/b', 'alice/c'] }));
  assert.deepEqual((getIndex(cl, 'alice', 'd') as StageConfig | undefined)?.bases, ['alice/b', 'alice/c']);
});

test('resolutionOrder: the stage, then its bases depth-first in listed order, each once; missing bases skipped', async () => {
  const cl = await withUsers('alice', 'bob');
  await cl.write((tx) => {
    createIndex(tx, 'alice', 'a', {});
    createIndex(tx, 'alice', 'b', { bases: ['alice/a'] });
    createIndex(tx, 'bob', 'c', { bases: ['alice/a'] });
    createIndex(tx, 'alice', 'd', { bases: ['alice/b', 'bob/c'] });
  });
  assert.deepEqual(resolutionOrder(cl, 'alice/a'), ['alice/a']);
  assert.deepEqual(resolutionOrder(cl, 'alice/b'), ['alice/b', 'alice/a']);
  assert.deepEqual(resolutionOrder(cl, 'alice/d'), ['alice/d', 'alice/b', 'alice/a', 'bob/c']);
  assert.deepEqual(resolutionOrder(cl, 'alice/nope'), []);
  await cl.write((tx) => deleteIndex(tx, 'alice', 'a'));
  assert.deepEqual(resolutionOrder(cl, 'alice/d'), ['alice/d', 'alice/b', 'bob/c']);
});

test('deleteIndex: 403 for a non-volatile index; a volatile one goes with everything it holds; 404 missing', async () => {
  const cl = await withUsers('alice');
  await cl.write((tx) => {
    createIndex(tx, 'alice', 'prod', { volatile: false });
    createIndex(tx, 'alice', 'dev', {});
  });
  const sha = 'a'.repeat(64);
  await cl.write((tx) => attachFile(tx, 'alice/dev', { name: 'foo', version: '1.0' }, { filename: 'foo-1.0.tar.gz', sha256: sha, size: 3 }, 'releasefile', 'alice'));
  await rejectsWith(cl.write((tx) => deleteIndex(tx, 'alice', 'prod')), 403, /non-volatile/);
  assert.ok(getIndex(cl, 'alice', 'prod'));
  await cl.write((tx) => deleteIndex(tx, 'alice', 'dev'));
  assert.equal(getIndex(cl, 'alice', 'dev'), undefined);
  assert.deepEqual(cl.children('project/alice/dev'), []);
  assert.deepEqual(cl.children('release/alice/dev/foo'), []);
  assert.equal(cl.get(keys.file(`alice/dev/+f/${sha.slice(0, 3)}/${sha.slice(3, 16)}/foo-1.0.tar.gz`)), undefined);
  await rejectsWith(cl.write((tx) => deleteIndex(tx, 'alice', 'dev')), 404);
});

test('mirror indexes: defaults, mirror keys validated, stage keys refused, and mirrors come last in the resolution order', async () => {
  const cl = await Changelog.openInMemory();
  await cl.write((tx) => createUser(tx, 'root', {}));
  await cl.write((tx) => createUser(tx, 'alice', {}));
  const { result } = await cl.write((tx) => createIndex(tx, 'root', 'pypi', { type: 'mirror', mirror_url: 'http://127.0.0.1:9/simple', mirror_cache_expiry: '60' }));
  assert.deepEqual(result, { type: 'mirror', volatile: true, mirror_url: 'http://127.0.0.1:9/simple', mirror_cache_expiry: 60 }, 'mirror_url as given (devpi)');
  await rejectsWith(cl.write((tx) => createIndex(tx, 'root', 'bad', { type: 'mirror', bases: ['root/pypi'] })), 400, /'bases' not allowed for mirror/);
  await rejectsWith(cl.write((tx) => createIndex(tx, 'root', 'bad', { type: 'mirror', mirror_cache_expiry: -1 })), 400, /mirror_cache_expiry/);
  await rejectsWith(cl.write((tx) => createIndex(tx, 'alice', 'bad', { mirror_url: 'http://x/' })), 400, /'mirror_url' not allowed for stage/);
  await cl.write((tx) => createIndex(tx, 'alice', 'base', { bases: ['root/pypi'] }));
  await cl.write((tx) => createIndex(tx, 'alice', 'dev', { bases: ['root/pypi', 'alice/base'] }));
  assert.deepEqual(resolutionOrder(cl, 'alice/dev'), ['alice/dev', 'alice/base', 'root/pypi']);
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'root', 'pypi', ['bases+=alice/dev'])), 400, /not allowed for mirror/);
});

test('mirror config as devpi stores it: mirror_url as given, mirror_cache_expiry implicit; readers add the slash and the 1800 s default', async () => {
  const cl = await Changelog.openInMemory();
  await cl.write((tx) => createUser(tx, 'root', {}));
  const { result: plain } = await cl.write((tx) => createIndex(tx, 'root', 'plain', { type: 'mirror', mirror_url: 'http://127.0.0.1:9/simple' }));
  assert.deepEqual(plain, { type: 'mirror', volatile: true, mirror_url: 'http://127.0.0.1:9/simple' });
  assert.ok(plain.type === 'mirror');
  assert.equal(mirrorCacheExpiry(plain), DEFAULT_MIRROR_CACHE_EXPIRY_SECONDS);
  assert.equal(DEFAULT_MIRROR_CACHE_EXPIRY_SECONDS, 1800);
  assert.equal(mirrorBaseUrl(plain), 'http://127.0.0.1:9/simple/');
  const { result: zero } = await cl.write((tx) => createIndex(tx, 'root', 'zero', { type: 'mirror', mirror_url: 'http://127.0.0.1:9/simple/', mirror_cache_expiry: 0 }));
  assert.ok(zero.type === 'mirror');
  assert.equal(mirrorCacheExpiry(zero), 0, 'an explicit 0 stays 0');
  assert.equal(mirrorBaseUrl(zero), 'http://127.0.0.1:9/simple/', 'no second slash');
});

test('PATCH list form: retention={JSON} sets the policy, retention-= drops it; bad JSON, a non-object and a bad policy → 400, nothing changes', async () => {
  const cl = await withUsers('alice');
  await cl.write((tx) => createIndex(tx, 'alice', 'ci', {}));
  const { result } = await cl.write((tx) => modifyIndex(tx, 'alice', 'ci', ['retention={"keep_dev_releases": 10, "max_age_days": 30}']));
  assert.deepEqual((result as StageConfig).retention, { keep_dev_releases: 10, max_age_days: 30 });
  // same as the object form: the whole policy is replaced
  const replaced = await cl.write((tx) => modifyIndex(tx, 'alice', 'ci', ['retention={"keep_pre_releases": 2}']));
  assert.deepEqual((replaced.result as StageConfig).retention, { keep_pre_releases: 2 });
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'ci', ['retention=keep_dev_releases=10'])), 400, /retention=keep_dev_releases=10 is not JSON/);
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'ci', ['retention=[10]'])), 400, /retention must be a JSON object/);
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'ci', ['retention=null'])), 400, /retention must be a JSON object/);
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'ci', ['retention={"keep_dev_releases": -1}'])), 400, /retention/);
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'ci', ['retention={"keep_forever": true}'])), 400, /keep_forever/);
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'ci', ['retention+={"keep_dev_releases": 1}'])), 400, /not a list/);
  assert.deepEqual((getIndex(cl, 'alice', 'ci') as StageConfig).retention, { keep_pre_releases: 2 });
  const dropped = await cl.write((tx) => modifyIndex(tx, 'alice', 'ci', ['retention-=']));
  assert.equal((dropped.result as StageConfig).retention, undefined);
  // a mirror has no retention policy
  await cl.write((tx) => createIndex(tx, 'alice', 'mirror', { type: 'mirror', mirror_url: 'http://127.0.0.1:9/simple/' }));
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'mirror', ['retention={"keep_dev_releases": 1}'])), 400, /not allowed for mirror/);
});
