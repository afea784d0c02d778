import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Changelog } from '@wheelhouse/changelog';
import { NotFoundError } from '../errors.js';
import { versionHandler } from './version-handler.js';
import { pageRequest, webFixture } from './web-fixture.test-helpers.js';

let cl: Changelog;
/** No blob is on this node: test results show as pending. */
const files = { pathFor: (sha: string) => `/nonexistent/wheelhouse-test/${sha}` };
before(async () => {
  cl = await webFixture();
});
after(() => cl.close());

test('version page: found shows the file, the docs link and a test result not yet on this node', async () => {
  const result = await versionHandler({ state: cl, files }, { user: 'alice', index: 'dev', project: 'demo-pkg', version: '1.0' }, pageRequest('/alice/dev/demo-pkg/1.0'));
  assert.equal(result.kind, 'page');
  const page = result.kind === 'page' ? result.spec.body.value : '';
  assert.match(page, /demo_pkg-1\.0-py3-none-any\.whl/);
  assert.match(page, /demo-pkg\/1\.0\/\+doc\//);
  assert.match(page, /<span class="badge">pending<\/span>/);
  assert.equal(result.kind === 'page' ? result.spec.title : '', 'Demo_Pkg 1.0');
});

test('version page: an unknown version is a 404; a mirror passes; a non-normalised name redirects', async () => {
  await assert.rejects(
    versionHandler({ state: cl, files }, { user: 'alice', index: 'dev', project: 'demo-pkg', version: '9.9' }, pageRequest('/alice/dev/demo-pkg/9.9')),
    (err: unknown) => err instanceof NotFoundError && /no version '9\.9'/.test(err.message),
  );
  assert.deepEqual(await versionHandler({ state: cl, files }, { user: 'root', index: 'pypi', project: 'x', version: '1' }, pageRequest('/root/pypi/x/1')), { kind: 'pass' });
  assert.deepEqual(await versionHandler({ state: cl, files }, { user: 'alice', index: 'dev', project: 'Demo.Pkg', version: '1.0' }, pageRequest('/alice/dev/Demo.Pkg/1.0')), {
    kind: 'redirect',
    location: '/alice/dev/demo-pkg/1.0',
  });
});
