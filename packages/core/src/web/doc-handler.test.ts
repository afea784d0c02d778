import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Changelog } from '@wheelhouse/changelog';
import { BadRequestError, NotFoundError } from '../errors.js';
import { docHandler } from './doc-handler.js';
import type { DocEntry } from './doc-zips.js';
import { DOC_SHA, webFixture } from './web-fixture.test-helpers.js';

let cl: Changelog;
before(async () => {
  cl = await webFixture();
});
after(() => cl.close());

const entry: DocEntry = { size: 5, crc32: 0xabc, contentType: 'text/html; charset=utf-8', open: () => Promise.reject(new Error('not opened in this test')), release: () => undefined };
/** A doc zip with `index.html` and the folder `api/`; records which blob was asked for. */
const asked: string[] = [];
const zips = {
  entry: async (sha256: string, path: string): Promise<DocEntry | 'folder' | undefined> => {
    asked.push(sha256);
    return path === 'index.html' ? entry : path === 'api' ? 'folder' : undefined;
  },
};
const params = (version: string, project = 'demo-pkg') => ({ user: 'alice', index: 'dev', project, version });
const at = (path: string) => ({ originalUrl: `${path}?q=1`, path });

test('docs: found under the version and its aliases, with an ETag from the blob and the entry', async () => {
  for (const v of ['1.0', 'latest', 'stable']) {
    const result = await docHandler({ state: cl, zips }, params(v), at(`/alice/dev/demo-pkg/${v}/+doc/`));
    assert.deepEqual(result, { kind: 'doc', entry, etag: `"${DOC_SHA.slice(0, 16)}-abc"` }, v);
  }
  assert.deepEqual(asked, [DOC_SHA, DOC_SHA, DOC_SHA]);
  assert.deepEqual(await docHandler({ state: cl, zips }, params('1.0'), at('/alice/dev/demo-pkg/1.0/+doc')), { kind: 'redirect', location: '/alice/dev/demo-pkg/1.0/+doc/' });
  assert.deepEqual(await docHandler({ state: cl, zips }, params('1.0'), at('/alice/dev/demo-pkg/1.0/+doc/api')), { kind: 'redirect', location: '/alice/dev/demo-pkg/1.0/+doc/api/' });
});

test('docs: unknown version, entry or index is a 404; a path leaving the archive is a 400', async () => {
  await assert.rejects(docHandler({ state: cl, zips }, params('9.9'), at('/alice/dev/demo-pkg/9.9/+doc/')), /no documentation for demo-pkg 9\.9/);
  await assert.rejects(docHandler({ state: cl, zips }, params('1.0'), at('/alice/dev/demo-pkg/1.0/+doc/missing.html')), NotFoundError);
  await assert.rejects(docHandler({ state: cl, zips }, { ...params('1.0'), index: 'nope' }, at('/alice/nope/demo-pkg/1.0/+doc/')), NotFoundError);
  await assert.rejects(docHandler({ state: cl, zips }, params('1.0'), at('/alice/dev/demo-pkg/1.0/+doc/%2e%2e/secret')), BadRequestError);
  const unreadable = { entry: () => Promise.reject(Object.assign(new Error('gone'), { code: 'ENOENT' })) };
  await assert.rejects(docHandler({ state: cl, zips: unreadable }, params('1.0'), at('/alice/dev/demo-pkg/1.0/+doc/')), /not on this server yet/);
});
