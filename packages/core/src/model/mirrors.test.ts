// Dependency-confusion protection (devpi §3.4 "higher version attack", devpi #451 and #981: multi-base
// whitelist inheritance made predictable): which mirrors may serve a project for an index, and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Changelog } from '@wheelhouse/changelog';
import { createUser } from './users.js';
import { createIndex, modifyIndex, resolutionOrder } from './indexes.js';
import { attachFile } from './releases.js';
import { type MirrorLink, type MirrorProjectRecord } from './records.js';
import { keys } from './keys.js';
import { explainProject, mirrorPolicy, projectKnown, simpleFiles, simpleVersions } from './mirrors.js';

const sha = (c: string): string => c.repeat(64);

function link(filename: string, version: string, c?: string): MirrorLink {
  return { filename, url: `https://files.example.invalid/${filename}`, version, ...(c ? { sha256: sha(c) } : {}) };
}

/**
 * root/pypi (mirror); alice/base → [root/pypi]; alice/mid → [alice/base]; alice/top → [alice/mid];
 * bob/solo → [root/pypi]. `shadow` 1.0 is private in alice/base; root/pypi caches `shadow` 1.0 and
 * 9.9 (the "higher version") and `public` 2.0.
 */
async function setup(): Promise<Changelog> {
  const cl = await Changelog.openInMemory();
  await cl.write((tx) => {
    createUser(tx, 'root', {});
    createUser(tx, 'alice', {});
    createUser(tx, 'bob', {});
    createIndex(tx, 'root', 'pypi', { type: 'mirror', mirror_url: 'https://pypi.example.invalid/simple/' });
    createIndex(tx, 'alice', 'base', { bases: ['root/pypi'] });
    createIndex(tx, 'alice', 'mid', { bases: ['alice/base'] });
    createIndex(tx, 'alice', 'top', { bases: ['alice/mid'] });
    createIndex(tx, 'bob', 'solo', { bases: ['root/pypi'] });
    attachFile(tx, 'alice/base', { name: 'shadow', version: '1.0' }, { filename: 'shadow-1.0.tar.gz', sha256: sha('1'), size: 10 }, 'releasefile', 'alice');
    const shadow: MirrorProjectRecord = {
      name: 'shadow',
      links: [link('shadow-1.0.tar.gz', '1.0', 'd'), link('shadow-9.9-py3-none-any.whl', '9.9', 'e')],
      serial: 5,
      fetched: Date.now(),
    };
    const pub: MirrorProjectRecord = { name: 'public', links: [link('public-2.0.tar.gz', '2.0', 'f'), link('public-1.0.tar.gz', '1.0')], versions: ['1.0', '2.0'], serial: 6, fetched: Date.now() };
    tx.set(keys.mirrorProject('root/pypi', 'shadow'), shadow);
    tx.set(keys.mirrorProject('root/pypi', 'public'), pub);
  });
  return cl;
}

async function configure(cl: Changelog, stage: string, changes: Record<string, unknown>): Promise<void> {
  const [u, i] = stage.split('/') as [string, string];
  await cl.write((tx) => modifyIndex(tx, u, i, changes));
}

test('mirrors come last in the resolution order, once, however many paths lead to them (devpi test_multi_path_to_mirror_sro)', async () => {
  const cl = await setup();
  await cl.write((tx) => {
    createIndex(tx, 'alice', 's1', { bases: ['root/pypi'] });
    createIndex(tx, 'alice', 's2', { bases: ['root/pypi'] });
    createIndex(tx, 'alice', 's3', { bases: ['alice/s1', 'alice/s2'] });
  });
  assert.deepEqual(resolutionOrder(cl, 'alice/s3'), ['alice/s3', 'alice/s1', 'alice/s2', 'root/pypi']);
  assert.deepEqual(resolutionOrder(cl, 'alice/top'), ['alice/top', 'alice/mid', 'alice/base', 'root/pypi']);
});

test('a project no private stage has: the mirror may serve it, and its links and versions show', async () => {
  const cl = await setup();
  const policy = mirrorPolicy(cl, 'alice/top', 'public');
  assert.deepEqual(policy, { mirrors: ['root/pypi'], allowed: true });
  const files = simpleFiles(cl, 'alice/top', 'public', policy);
  assert.deepEqual(files.map((f) => [f.stage, f.filename, f.absolute]), [
    ['root/pypi', 'public-2.0.tar.gz', false],
    ['root/pypi', 'public-1.0.tar.gz', true],
  ]);
  assert.equal(files[0]!.href, `root/pypi/+f/fff/${'f'.repeat(13)}/public-2.0.tar.gz`, 'hashed links are served from the mirror');
  assert.equal(files[1]!.href, 'https://files.example.invalid/public-1.0.tar.gz', 'hashless links point upstream');
  assert.deepEqual(simpleVersions(cl, 'alice/top', 'public', files, policy), ['1.0', '2.0']);
  assert.ok(projectKnown(cl, 'alice/top', 'public', policy));
});

test('a private project shadows the mirror: its higher version is never offered, on the stage and through two levels of bases', async () => {
  const cl = await setup();
  for (const stage of ['alice/base', 'alice/mid', 'alice/top']) {
    const policy = mirrorPolicy(cl, stage, 'shadow');
    assert.deepEqual(policy, { mirrors: ['root/pypi'], allowed: false, privateStage: 'alice/base' }, stage);
    const files = simpleFiles(cl, stage, 'shadow', policy);
    assert.deepEqual(files.map((f) => f.filename), ['shadow-1.0.tar.gz'], stage);
    assert.equal(files[0]!.stage, 'alice/base');
    assert.deepEqual(simpleVersions(cl, stage, 'shadow', files, policy), ['1.0'], `${stage}: 9.9 is not a version`);
  }
  // an index without the private stage in its order still gets the mirror's releases
  const solo = mirrorPolicy(cl, 'bob/solo', 'shadow');
  assert.equal(solo.allowed, true);
  assert.deepEqual(simpleFiles(cl, 'bob/solo', 'shadow', solo).map((f) => f.filename), ['shadow-1.0.tar.gz', 'shadow-9.9-py3-none-any.whl']);
});

test('mirror_whitelist on the private stage itself brings the mirror back; the private file of the same name wins', async () => {
  const cl = await setup();
  await configure(cl, 'alice/base', { mirror_whitelist: ['shadow'] });
  const policy = mirrorPolicy(cl, 'alice/base', 'shadow');
  assert.deepEqual(policy, { mirrors: ['root/pypi'], allowed: true, whitelistedBy: 'alice/base' });
  const files = simpleFiles(cl, 'alice/base', 'shadow', policy);
  assert.deepEqual(files.map((f) => [f.stage, f.filename]), [
    ['alice/base', 'shadow-1.0.tar.gz'],
    ['root/pypi', 'shadow-9.9-py3-none-any.whl'],
  ]);
  assert.deepEqual(simpleVersions(cl, 'alice/base', 'shadow', files, policy), ['1.0', '9.9']);
});

test("intersection (the default of new stages): a base's whitelist alone does not open the mirror to an inheriting index", async () => {
  const cl = await setup();
  await configure(cl, 'alice/base', { mirror_whitelist: ['shadow'] });
  for (const stage of ['alice/mid', 'alice/top']) {
    const policy = mirrorPolicy(cl, stage, 'shadow');
    assert.equal(policy.allowed, false, `${stage}: ${JSON.stringify(policy)}`);
    assert.equal(policy.privateStage, 'alice/base');
  }
  // the requesting index listing it is enough (its own list starts the running whitelist)
  await configure(cl, 'alice/top', { mirror_whitelist: ['shadow'] });
  assert.deepEqual(mirrorPolicy(cl, 'alice/top', 'shadow'), { mirrors: ['root/pypi'], allowed: true, whitelistedBy: 'alice/top' });
  // mid lists nothing: mid's own order is still closed
  assert.equal(mirrorPolicy(cl, 'alice/mid', 'shadow').allowed, false);
});

test('intersection: every stage between the requester and the private stage must list the name', async () => {
  const cl = await setup();
  await configure(cl, 'alice/base', { mirror_whitelist: ['shadow'] });
  await configure(cl, 'alice/mid', { mirror_whitelist: ['shadow', 'other'] });
  // top lists something else: the intersection {other} ∩ … never holds 'shadow'
  await configure(cl, 'alice/top', { mirror_whitelist: ['other'] });
  assert.equal(mirrorPolicy(cl, 'alice/top', 'shadow').allowed, false);
  // mid as the requester: {shadow, other} holds it at once
  assert.deepEqual(mirrorPolicy(cl, 'alice/mid', 'shadow'), { mirrors: ['root/pypi'], allowed: true, whitelistedBy: 'alice/mid' });
});

test("union: a base's whitelist opens the mirror to every index inheriting from it, through two levels", async () => {
  const cl = await setup();
  await configure(cl, 'alice/base', { mirror_whitelist: ['shadow'] });
  await configure(cl, 'alice/top', { mirror_whitelist_inheritance: 'union' });
  assert.deepEqual(mirrorPolicy(cl, 'alice/top', 'shadow'), { mirrors: ['root/pypi'], allowed: true, whitelistedBy: 'alice/base' });
  // the inheritance mode is the requesting index's: mid (intersection) stays closed
  assert.equal(mirrorPolicy(cl, 'alice/mid', 'shadow').allowed, false);
  assert.deepEqual(simpleFiles(cl, 'alice/top', 'shadow').map((f) => f.filename), ['shadow-1.0.tar.gz', 'shadow-9.9-py3-none-any.whl']);
});

test("'*' whitelists every name: on the private stage, and (union) inherited", async () => {
  const cl = await setup();
  await configure(cl, 'alice/base', { mirror_whitelist: ['*'] });
  assert.equal(mirrorPolicy(cl, 'alice/base', 'shadow').whitelistedBy, 'alice/base');
  assert.equal(mirrorPolicy(cl, 'alice/top', 'shadow').allowed, false, 'intersection: top lists nothing');
  await configure(cl, 'alice/top', { mirror_whitelist: ['*'] });
  assert.equal(mirrorPolicy(cl, 'alice/top', 'shadow').whitelistedBy, 'alice/top');
  await configure(cl, 'alice/top', { mirror_whitelist: [], mirror_whitelist_inheritance: 'union' });
  assert.equal(mirrorPolicy(cl, 'alice/top', 'shadow').whitelistedBy, 'alice/base');
});

test('a whitelist later in the order than the private stage still whitelists (devpi: whitelisting is sticky over the walk)', async () => {
  const cl = await setup();
  // the private project now lives in top, the whitelist in base
  await cl.write((tx) => attachFile(tx, 'alice/top', { name: 'public', version: '0.1' }, { filename: 'public-0.1.tar.gz', sha256: sha('2'), size: 10 }, 'releasefile', 'alice'));
  assert.deepEqual(mirrorPolicy(cl, 'alice/top', 'public'), { mirrors: ['root/pypi'], allowed: false, privateStage: 'alice/top' });
  await configure(cl, 'alice/base', { mirror_whitelist: ['public'] });
  await configure(cl, 'alice/top', { mirror_whitelist_inheritance: 'union' });
  const policy = mirrorPolicy(cl, 'alice/top', 'public');
  assert.equal(policy.allowed, true);
  assert.equal(policy.whitelistedBy, 'alice/base');
});

test('an index without a mirror in its order: nothing is allowed, nothing is asked', async () => {
  const cl = await setup();
  await cl.write((tx) => createIndex(tx, 'alice', 'closed', {}));
  assert.deepEqual(mirrorPolicy(cl, 'alice/closed', 'public'), { mirrors: [], allowed: false });
  assert.deepEqual(simpleFiles(cl, 'alice/closed', 'public'), []);
  assert.equal(projectKnown(cl, 'alice/closed', 'public'), false);
});

test('explainProject says which stage gives each file and why the mirror was skipped', async () => {
  const cl = await setup();
  const shadowed = explainProject(cl, 'alice/top', 'Shadow');
  assert.equal(shadowed['project'], 'shadow', 'the name is normalised');
  assert.equal(shadowed['mirrors_allowed'], false);
  assert.equal(shadowed['private_stage'], 'alice/base');
  const stages = shadowed['stages'] as Array<Record<string, unknown>>;
  assert.deepEqual(stages.map((s) => s['stage']), ['alice/top', 'alice/mid', 'alice/base', 'root/pypi']);
  assert.deepEqual(stages[2], { stage: 'alice/base', type: 'stage', files: ['shadow-1.0.tar.gz'], has_project: true });
  const mirror = stages[3]!;
  assert.deepEqual(mirror['files'], []);
  assert.match(String(mirror['skipped']), /exists in the private stage alice\/base/);
  assert.match(String(mirror['skipped']), /not sent upstream/);
  assert.deepEqual((mirror['cached'] as Record<string, unknown>)['links'], 2);

  await configure(cl, 'alice/top', { mirror_whitelist: ['shadow'] });
  const open = explainProject(cl, 'alice/top', 'shadow');
  assert.equal(open['mirrors_allowed'], true);
  assert.equal(open['whitelisted_by'], 'alice/top');
  const m = (open['stages'] as Array<Record<string, unknown>>)[3]!;
  assert.equal(m['skipped'], undefined);
  assert.deepEqual(m['files'], ['shadow-9.9-py3-none-any.whl'], 'shadow-1.0.tar.gz comes from alice/base, which hides the mirror copy');

  const never = explainProject(cl, 'alice/top', 'never-fetched');
  assert.equal(never['mirrors_allowed'], true);
  assert.equal((never['stages'] as Array<Record<string, unknown>>)[3]!['cached'], null);
});
