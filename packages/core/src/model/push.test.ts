import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Changelog } from '@wheelhouse/changelog';
import { WheelhouseError } from '../errors.js';
import { createUser } from './users.js';
import { createIndex } from './indexes.js';
import { attachFile, attachToxResult, type NewFile } from './releases.js';
import { checkPushBody, pushRelease } from './push.js';
import { userPrincipal } from '../acl.js';
import { type FileEntry, type ReleaseRecord } from './records.js';
import { keys } from './keys.js';
import { entrypathFor } from './stage-paths.js';
import { statusOf } from '@wheelhouse/http';

async function rejectsWith(p: Promise<unknown>, status: number, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof WheelhouseError, `expected a WheelhouseError, got ${String(err)}`);
    assert.equal(statusOf(err), status, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

const sha = (c: string): string => c.repeat(64);
const file = (filename: string, c: string): NewFile => ({ filename, sha256: sha(c), size: 10 });
const SDIST = 'foo-1.0.tar.gz';
const WHEEL = 'foo-1.0-py3-none-any.whl';

/** alice/dev holds foo 1.0 (sdist overwritten once, wheel with METADATA, a test result on the wheel, docs). */
async function setup(): Promise<Changelog> {
  const cl = await Changelog.openInMemory();
  await cl.write((tx) => {
    createUser(tx, 'alice', {});
    createUser(tx, 'bob', {});
    createIndex(tx, 'alice', 'dev', {});
    createIndex(tx, 'alice', 'prod', { volatile: false });
    createIndex(tx, 'bob', 'other', {});
  });
  const m = { name: 'Foo', version: '1.0', summary: 'the foo' };
  await cl.write((tx) => attachFile(tx, 'alice/dev', m, file(SDIST, '0'), 'releasefile', 'alice'));
  await cl.write((tx) => {
    attachFile(tx, 'alice/dev', m, file(SDIST, 'a'), 'releasefile', 'alice');
    attachFile(tx, 'alice/dev', m, { ...file(WHEEL, 'b'), metadataSha256: sha('9') }, 'releasefile', 'alice');
    attachFile(tx, 'alice/dev', m, file('foo-1.0.doc.zip', 'd'), 'doczip', 'alice');
  });
  await cl.write((tx) => attachToxResult(tx, entrypathFor('alice/dev', sha('b'), WHEEL), { sha256: sha('e'), size: 7 }, 'alice'));
  return cl;
}

const target = (cl: Changelog, stage = 'alice/prod') => cl.get<ReleaseRecord>(keys.release(stage, 'foo', '1.0'));

test('push copies release files, test results and docs, keeping the upload log plus a push entry', async () => {
  const cl = await setup();
  const { result: log } = await cl.write((tx) => pushRelease(tx, 'alice/dev', { name: 'foo', version: '1.0', targetindex: 'alice/prod' }, userPrincipal('alice')));
  const rec = target(cl)!;
  assert.equal(rec.metadata.summary, 'the foo');
  assert.deepEqual(rec.links.map((l) => [l.rel, l.filename]).sort(), [
    ['doczip', 'foo-1.0.doc.zip'],
    ['releasefile', SDIST],
    ['releasefile', WHEEL],
    ['toxresult', rec.links.find((l) => l.rel === 'toxresult')!.filename],
  ].sort());
  const wheelEp = entrypathFor('alice/prod', sha('b'), WHEEL);
  for (const l of rec.links) {
    assert.ok(l.entrypath.startsWith('alice/prod/+f/'), l.entrypath);
    const entry = cl.get<FileEntry>(keys.file(l.entrypath));
    assert.ok(entry, `file entry for ${l.entrypath}`);
    assert.equal(entry.sha256, l.sha256);
    assert.equal(entry.rel, l.rel);
    const last = l.log[l.log.length - 1]!;
    assert.deepEqual([last.what, last.who, last.src, last.dst], ['push', 'alice', 'alice/dev', 'alice/prod']);
    assert.ok(!l.log.some((e) => e.what === 'overwrite'), 'overwrite entries are not pushed');
    assert.equal(l.log[0]!.what, 'upload');
  }
  const tox = rec.links.find((l) => l.rel === 'toxresult')!;
  assert.equal(tox.for_entrypath, wheelEp);
  assert.equal(tox.entrypath, `${wheelEp.slice(0, wheelEp.lastIndexOf('/'))}/${tox.filename}`);
  assert.equal(rec.links.find((l) => l.filename === WHEEL)!.metadata_sha256, sha('9'));
  assert.equal(cl.get<FileEntry>(keys.file(wheelEp))!.metadata_sha256, sha('9'));
  assert.deepEqual(log[0], [200, 'register', 'Foo', '1.0', '->', 'alice/prod']);
  assert.deepEqual(log.map((e) => e[1]).sort(), ['register', 'store_doczip', 'store_releasefile', 'store_releasefile', 'store_toxresult'].sort());
  // the source is untouched
  assert.equal(cl.get<ReleaseRecord>(keys.release('alice/dev', 'foo', '1.0'))!.links.length, 4);
});

test('push again of the same release into a non-volatile target is accepted (identical files)', async () => {
  const cl = await setup();
  const body = { name: 'foo', version: '1.0', targetindex: 'alice/prod' };
  await cl.write((tx) => pushRelease(tx, 'alice/dev', body, userPrincipal('alice')));
  const before = JSON.stringify(target(cl));
  await cl.write((tx) => pushRelease(tx, 'alice/dev', body, userPrincipal('alice')));
  assert.equal(JSON.stringify(target(cl)), before);
});

test('push into a non-volatile target that has the file name with other content → 409, nothing written', async () => {
  const cl = await setup();
  await cl.write((tx) => attachFile(tx, 'alice/prod', { name: 'foo', version: '1.0' }, file(SDIST, 'c'), 'releasefile', 'alice'));
  const head = cl.head;
  await rejectsWith(cl.write((tx) => pushRelease(tx, 'alice/dev', { name: 'foo', version: '1.0', targetindex: 'alice/prod' }, userPrincipal('alice'))), 409);
  assert.equal(cl.head, head);
  assert.deepEqual(target(cl)!.links.map((l) => l.sha256), [sha('c')]);
});

test('push with no_docs leaves docs behind, only_docs copies only docs', async () => {
  const cl = await setup();
  await cl.write((tx) => pushRelease(tx, 'alice/dev', { name: 'foo', version: '1.0', targetindex: 'alice/prod', no_docs: true }, userPrincipal('alice')));
  assert.ok(!target(cl)!.links.some((l) => l.rel === 'doczip'));
  await cl.write((tx) => pushRelease(tx, 'alice/dev', { name: 'foo', version: '1.0', targetindex: 'bob/other', only_docs: true }, userPrincipal('bob')));
  assert.deepEqual(target(cl, 'bob/other')!.links.map((l) => l.rel), ['doczip']);
  await rejectsWith(
    cl.write((tx) => pushRelease(tx, 'alice/dev', { name: 'foo', version: '1.0', targetindex: 'bob/other', only_docs: true, no_docs: true }, userPrincipal('bob'))),
    400,
  );
});

test('push to a target without upload right → 401; anonymous too; nothing written', async () => {
  const cl = await setup();
  const head = cl.head;
  await rejectsWith(cl.write((tx) => pushRelease(tx, 'alice/dev', { name: 'foo', version: '1.0', targetindex: 'bob/other' }, userPrincipal('alice'))), 401, /cannot upload to 'bob\/other'/);
  await rejectsWith(cl.write((tx) => pushRelease(tx, 'alice/dev', { name: 'foo', version: '1.0', targetindex: 'alice/prod' }, undefined)), 401);
  assert.equal(cl.head, head);
  assert.equal(target(cl, 'bob/other'), undefined);
});

test('push of an unknown version or to an unknown or malformed target is refused', async () => {
  const cl = await setup();
  await rejectsWith(cl.write((tx) => pushRelease(tx, 'alice/dev', { name: 'foo', version: '9.9', targetindex: 'alice/prod' }, userPrincipal('alice'))), 404, /foo 9\.9/);
  await rejectsWith(cl.write((tx) => pushRelease(tx, 'alice/dev', { name: 'foo', version: '1.0', targetindex: 'alice/nope' }, userPrincipal('alice'))), 404);
  await rejectsWith(cl.write((tx) => pushRelease(tx, 'alice/dev', { name: 'foo', version: '1.0', targetindex: 'prod' }, userPrincipal('alice'))), 400, /targetindex/);
  await rejectsWith(cl.write((tx) => pushRelease(tx, 'alice/dev', { name: 'foo', version: '1.0' }, userPrincipal('alice'))), 400, /targetindex/);
  await rejectsWith(
    cl.write((tx) => pushRelease(tx, 'alice/dev', { name: 'foo', version: '1.0', posturl: 'https://example.org/' }, userPrincipal('alice'))),
    400,
    /posturl/,
  );
});

test('push finds the version through the source bases; the push entry names the stage that had it', async () => {
  const cl = await setup();
  await cl.write((tx) => createIndex(tx, 'alice', 'child', { bases: ['alice/dev'] }));
  await cl.write((tx) => pushRelease(tx, 'alice/child', { name: 'Foo', version: '1.0', targetindex: 'alice/prod' }, userPrincipal('alice')));
  const l = target(cl)!.links.find((x) => x.filename === SDIST)!;
  assert.equal(l.log[l.log.length - 1]!.src, 'alice/dev');
});

test('checkPushBody: name and version required, unknown keys refused', () => {
  assert.deepEqual(checkPushBody({ name: 'a', version: '1', targetindex: 'u/i' }), { name: 'a', version: '1', targetindex: 'u/i' });
  assert.throws(() => checkPushBody({ version: '1' }), /needs 'name'/);
  assert.throws(() => checkPushBody({ name: 'a', version: '1', colour: 'x' }), /unknown key 'colour'/);
  assert.throws(() => checkPushBody([]), WheelhouseError);
});
