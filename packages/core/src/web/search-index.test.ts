import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { Changelog } from '@wheelhouse/changelog';
import { createUser } from '../model/users.js';
import { createIndex } from '../model/indexes.js';
import { attachFile, deleteProject, registerRelease } from '../model/releases.js';
import { SearchIndex } from './search-index.js';

async function store(): Promise<Changelog> {
  const cl = await Changelog.openInMemory();
  await cl.write((tx) => {
    createUser(tx, 'alice', {});
    createIndex(tx, 'alice', 'dev', {});
    createIndex(tx, 'alice', 'prod', { volatile: false });
    registerRelease(tx, 'alice/dev', { name: 'requests-toolbelt', version: '1.0', summary: 'A utility belt for advanced users of python-requests' });
    registerRelease(tx, 'alice/dev', { name: 'requests', version: '2.0', summary: 'Python HTTP for Humans.', keywords: 'http,client' });
    registerRelease(tx, 'alice/dev', { name: 'frobnicator', version: '0.1', summary: 'Twiddles widgets', description: 'Long text about quaternions.' });
    registerRelease(tx, 'alice/prod', { name: 'requests', version: '1.0', summary: 'Python HTTP for Humans (old).' });
  });
  return cl;
}

test('the first build runs off the request path; hits are ranked with an exact name first', async () => {
  const cl = await store();
  const search = new SearchIndex(cl);
  assert.equal(search.updating, true);
  while (search.updating) await tick();
  const r = search.search('requests');
  assert.equal(r.hits[0]!.project, 'requests');
  assert.deepEqual(new Set(r.hits.map((h) => h.stage)), new Set(['alice/dev', 'alice/prod']));
  assert.ok(r.hits.some((h) => h.project === 'requests-toolbelt'));
  assert.equal(search.search('quaternions').hits[0]!.project, 'frobnicator');
  assert.equal(search.search('widget').hits[0]!.project, 'frobnicator', 'prefix');
  assert.equal(search.search('quaternons').hits[0]?.project, 'frobnicator', 'one typo');
  assert.equal(search.search('http client').hits[0]!.project, 'requests', 'keywords, all words');
  assert.equal(search.search('').hits.length, 0);
  search.close();
  await cl.close();
});

test('commits update the index (new, changed and deleted projects)', async () => {
  const cl = await store();
  const search = new SearchIndex(cl);
  search.flush();
  await cl.write((tx) => {
    attachFile(tx, 'alice/dev', { name: 'zebra-tools', version: '3.0', summary: 'Stripes as a service' }, { filename: 'zebra_tools-3.0.tar.gz', sha256: 'a'.repeat(64), size: 1 }, 'releasefile', 'alice');
    registerRelease(tx, 'alice/dev', { name: 'frobnicator', version: '0.2', summary: 'Now twiddles gadgets' });
    deleteProject(tx, 'alice/prod', 'requests', true);
  });
  assert.equal(search.updating, true, 'marked, not yet indexed: the commit did not wait');
  while (search.updating) await tick();
  assert.equal(search.search('stripes').hits[0]!.version, '3.0');
  assert.equal(search.search('gadgets').hits[0]!.version, '0.2');
  assert.deepEqual(search.search('requests').hits.filter((h) => h.project === 'requests').map((h) => h.stage), ['alice/dev']);
  search.close();
  await cl.close();
});
