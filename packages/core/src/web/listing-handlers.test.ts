import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Changelog } from '@wheelhouse/changelog';
import { NotFoundError } from '../errors.js';
import { indexHandler, projectHandler, rootHandler, userHandler } from './listing-handlers.js';
import type { PageResult } from './page-result.js';
import { pageRequest, webFixture } from './web-fixture.test-helpers.js';

let cl: Changelog;
before(async () => {
  cl = await webFixture();
});
after(() => cl.close());

function body(result: PageResult): string {
  assert.equal(result.kind, 'page');
  return result.kind === 'page' ? result.spec.body.value : '';
}

test('root page lists every index and user', () => {
  const page = body(rootHandler(cl, pageRequest('/')));
  assert.match(page, /href="http:\/\/wh\.test\/alice\/dev">alice\/dev</);
  assert.match(page, /href="http:\/\/wh\.test\/root\/pypi">root\/pypi</);
  assert.match(page, /<li><a href="http:\/\/wh\.test\/root">root<\/a><\/li>/);
});

test('user page: found shows the title; an unknown user is a 404', () => {
  assert.match(body(userHandler(cl, { user: 'alice' }, pageRequest('/alice'))), /<h1>Alice A\.<\/h1>/);
  assert.throws(() => userHandler(cl, { user: 'nobody' }, pageRequest('/nobody')), NotFoundError);
});

test('index page: found lists the project (a page number that does not parse is page 1); an unknown index is a 404', () => {
  const page = body(indexHandler(cl, { user: 'alice', index: 'dev', page: 'x' }, pageRequest('/alice/dev?page=x')));
  assert.match(page, /Demo_Pkg<\/a> <span class="muted">1\.0/);
  assert.match(page, /A frobnicating widget/);
  assert.throws(() => indexHandler(cl, { user: 'alice', index: 'nope', page: '' }, pageRequest('/alice/nope')), /index 'alice\/nope' does not exist/);
});

test('project page: found, redirected when not normalised, passed on for a mirror; unknown project or index is a 404', () => {
  assert.match(body(projectHandler(cl, { user: 'alice', index: 'dev', project: 'demo-pkg' }, pageRequest('/alice/dev/demo-pkg'))), /<h1>Demo_Pkg<\/h1>/);
  assert.deepEqual(projectHandler(cl, { user: 'alice', index: 'dev', project: 'Demo_Pkg' }, pageRequest('/alice/dev/Demo_Pkg?x=1')), {
    kind: 'redirect',
    location: '/alice/dev/demo-pkg?x=1',
  });
  assert.deepEqual(projectHandler(cl, { user: 'root', index: 'pypi', project: 'requests' }, pageRequest('/root/pypi/requests')), { kind: 'pass' });
  assert.throws(() => projectHandler(cl, { user: 'alice', index: 'dev', project: 'nothing' }, pageRequest('/alice/dev/nothing')), /no project 'nothing' in alice\/dev/);
  assert.throws(() => projectHandler(cl, { user: 'bob', index: 'dev', project: 'x' }, pageRequest('/bob/dev/x')), NotFoundError);
});
