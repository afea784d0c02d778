import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Changelog } from '@wheelhouse/changelog';
import { SearchIndex } from './search-index.js';
import { searchHandler } from './search-handler.js';
import { statusHandler } from './status-handler.js';
import { pageRequest, webFixture } from './web-fixture.test-helpers.js';

let cl: Changelog;
let search: SearchIndex;
before(async () => {
  cl = await webFixture();
  search = new SearchIndex(cl);
  search.flush();
});
after(async () => {
  search.close();
  await cl.close();
});

test('search: a word of the summary finds the project (page and JSON); an unknown word finds nothing', () => {
  const page = searchHandler(search, 'frobnicating', false, pageRequest('/+search?query=frobnicating'));
  assert.equal(page.kind, 'page');
  assert.match(page.kind === 'page' ? page.spec.body.value : '', /href="http:\/\/wh\.test\/alice\/dev\/demo-pkg\/1\.0"/);
  const json = searchHandler(search, 'frobnicating', true, pageRequest('/+search'));
  assert.equal(json.kind, 'json');
  const result = json.kind === 'json' ? (json.envelope.result as { query: string; hits: Array<{ project: string }> }) : undefined;
  assert.equal(result?.query, 'frobnicating');
  assert.deepEqual(result?.hits.map((h) => h.project), ['demo-pkg']);
  const none = searchHandler(search, 'zzzyyyxxx', false, pageRequest('/+search?query=zzzyyyxxx'));
  assert.match(none.kind === 'page' ? none.spec.body.value : '', /No project matches/);
});

test('status page: a healthy master says so; a replica without master contact is unhealthy', () => {
  const ok = statusHandler({ role: 'MASTER', serial: 3, replicas: [] }, pageRequest('/+status'));
  assert.match(ok.kind === 'page' ? ok.spec.body.value : '', /class="banner ok"/);
  const bad = statusHandler({ role: 'REPLICA', serial: 1 }, pageRequest('/+status'));
  assert.match(bad.kind === 'page' ? bad.spec.body.value : '', /class="banner bad"[\s\S]*the master has not been reached yet/);
});
