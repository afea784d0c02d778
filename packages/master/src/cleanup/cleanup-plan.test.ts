import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Changelog } from '@wheelhouse/changelog';
import { attachFile, createIndex, keys, stageVersions, blobsNamedByState } from '@wheelhouse/core';
import { applyCleanup, planCleanup } from './cleanup-plan.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

async function withVersions(volatile: boolean, versions: string[]): Promise<Changelog> {
  const changelog = await Changelog.openInMemory();
  await changelog.write((tx) => {
    tx.set(keys.user('ci'), { username: 'ci', created: '2026-01-01T00:00:00Z' });
    createIndex(tx, 'ci', 'nightly', { volatile, retention: { keep_dev_releases: 2 } });
    createIndex(tx, 'ci', 'plain', {});
    for (const stage of ['ci/nightly', 'ci/plain']) {
      for (const v of versions) {
        attachFile(tx, stage, { name: 'demo', version: v }, { filename: `demo-${v}.tar.gz`, sha256: sha(stage + v), size: 10 }, 'releasefile', 'ci');
      }
    }
  });
  return changelog;
}

test('cleanup removes the versions beyond the policy in one record per project; an index without a policy is untouched', async () => {
  const changelog = await withVersions(true, ['1.0', '1.1.dev1', '1.1.dev2', '1.1.dev10', '1.1.dev3']);
  const plan = planCleanup(changelog);
  assert.deepEqual(plan.removals.map((r) => `${r.stage} ${r.version}`), ['ci/nightly 1.1.dev2', 'ci/nightly 1.1.dev1']);
  const head = changelog.head;
  const done = await applyCleanup(changelog, plan);
  assert.equal(done.serials.length, 1);
  assert.equal(changelog.head, head + 1);
  assert.deepEqual(stageVersions(changelog, 'ci/nightly', 'demo'), ['1.0', '1.1.dev3', '1.1.dev10']);
  assert.equal(stageVersions(changelog, 'ci/plain', 'demo').length, 5);
  // the removed versions' blobs are no longer named: garbage for the collector
  const named = blobsNamedByState(changelog.entries());
  assert.equal(named.has(sha('ci/nightly1.1.dev1')), false);
  assert.equal(named.has(sha('ci/nightly1.1.dev3')), true);
  await changelog.close();
});

test('a non-volatile index is skipped unless forced; a plan applied twice removes nothing the second time', async () => {
  const changelog = await withVersions(false, ['1.0.dev1', '1.0.dev2', '1.0.dev3']);
  const plan = planCleanup(changelog);
  assert.deepEqual(plan, { removals: [], skippedNonVolatile: ['ci/nightly'] });
  const forced = planCleanup(changelog, { force: true });
  assert.deepEqual(forced.removals.map((r) => r.version), ['1.0.dev1']);
  assert.equal((await applyCleanup(changelog, forced)).removed.length, 1);
  const again = await applyCleanup(changelog, forced);
  assert.deepEqual(again, { removed: [], serials: [] });
  await changelog.close();
});
