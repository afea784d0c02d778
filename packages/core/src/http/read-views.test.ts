import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Changelog } from '@wheelhouse/changelog';
import { NotFoundError } from '../errors.js';
import { createIndex } from '../model/indexes.js';
import { entrypathFor } from '../model/stage-paths.js';
import { attachFile } from '../model/releases.js';
import { createUser } from '../model/users.js';
import { releaseFileMeta } from './index-read-routes.js';
import { projectConfig, versionData } from './project-read-routes.js';
import { apiConfig } from './service-routes.js';
import { userList } from './user-read-routes.js';

const BASE = 'http://wh.test';
const SHA = 'c'.repeat(64);
let cl: Changelog;
before(async () => {
  cl = await Changelog.openInMemory();
  await cl.write((tx) => {
    createUser(tx, 'alice', {});
    createIndex(tx, 'alice', 'base', {});
    createIndex(tx, 'alice', 'dev', { bases: ['alice/base'] });
    attachFile(tx, 'alice/base', { name: 'demo', version: '1.0' }, { filename: 'demo-1.0.tar.gz', sha256: SHA, size: 7 }, 'releasefile', 'alice');
  });
});
after(() => cl.close());

test('apiconfig: anonymous without a stage; with a stage its URLs; an unknown stage is a 404', () => {
  assert.deepEqual(apiConfig(cl, BASE, undefined)['authstatus'], ['noauth', '', []]);
  const r = apiConfig(cl, BASE, 'alice', { user: 'alice', index: 'dev' });
  assert.deepEqual(r['authstatus'], ['ok', 'alice', []]);
  assert.equal(r['simpleindex'], `${BASE}/alice/dev/+simple/`);
  assert.throws(() => apiConfig(cl, BASE, undefined, { user: 'alice', index: 'nope' }), NotFoundError);
});

test('user list names every user with its indexes', () => {
  const users = userList(cl) as Record<string, { indexes: Record<string, unknown> }>;
  assert.deepEqual(Object.keys(users), ['alice']);
  assert.deepEqual(Object.keys(users['alice']!.indexes), ['base', 'dev']);
});

test('releasefilemeta of a stored file; an unknown path is a 404', () => {
  const meta = releaseFileMeta(cl, entrypathFor('alice/base', SHA, 'demo-1.0.tar.gz'));
  assert.equal(meta['hash_spec'], `sha256=${SHA}`);
  assert.equal(meta['size'], 7);
  assert.throws(() => releaseFileMeta(cl, 'alice/base/+f/xxx/yyy/nope.tar.gz'), /no such file/);
});

test('project and version data come through the bases; ignore_bases and unknown versions are 404', () => {
  const project = projectConfig(cl, BASE, 'alice/dev', 'demo', false) as Record<string, { '+links': Array<{ href: string }> }>;
  assert.deepEqual(Object.keys(project), ['1.0']);
  assert.equal(project['1.0']!['+links'][0]!.href, `${BASE}/${entrypathFor('alice/base', SHA, 'demo-1.0.tar.gz')}`);
  assert.throws(() => projectConfig(cl, BASE, 'alice/dev', 'demo', true), /no project 'demo' in alice\/dev/);
  assert.equal(versionData(cl, BASE, 'alice/dev', 'demo', '1.0')['version'], '1.0');
  assert.throws(() => versionData(cl, BASE, 'alice/dev', 'demo', '2.0'), NotFoundError);
});
