import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Changelog } from '@wheelhouse/changelog';
import { WheelhouseError } from '../errors.js';
import { createUser } from './users.js';
import { createIndex } from './indexes.js';
import {
  attachFile,
  attachToxResult,
  deleteFile,
  deleteProject,
  deleteVersion,
  deleteVersions,
  getProject,
  mergedReleases,
  validateReleaseFile,
  type NewFile,
} from './releases.js';
import { type FileEntry, type ReleaseRecord } from './records.js';
import { keys } from './keys.js';
import { entrypathFor } from './stage-paths.js';
import { mirrorPolicy, simpleFiles, simpleVersions } from './mirrors.js';
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
const file = (filename: string, c: string, size = 10): NewFile => ({ filename, sha256: sha(c), size });
const meta = (version: string, name = 'foo') => ({ name, version });

/** alice with indexes base (volatile), dev (volatile, bases base), prod (non-volatile). */
async function setup(): Promise<Changelog> {
  const cl = await Changelog.openInMemory();
  await cl.write((tx) => {
    createUser(tx, 'alice', {});
    createIndex(tx, 'alice', 'base', {});
    createIndex(tx, 'alice', 'dev', { bases: ['alice/base'] });
    createIndex(tx, 'alice', 'prod', { volatile: false });
  });
  return cl;
}

const release = (cl: Changelog, stage: string, project: string, version: string) =>
  cl.get<ReleaseRecord>(keys.release(stage, project, version));

test('attachFile creates project, release, link and file entry; the project keeps its display name', async () => {
  const cl = await setup();
  const { result } = await cl.write((tx) =>
    attachFile(tx, 'alice/dev', { name: 'Wh_Demo.Mixed-Case', version: '0.1.0', requires_python: '>=3.8' }, file('Wh_Demo.Mixed-Case-0.1.0.tar.gz', 'a'), 'releasefile', 'alice'),
  );
  assert.equal(result, 'created');
  assert.deepEqual(getProject(cl, 'alice/dev', 'wh-demo-mixed-case')?.display_name, 'Wh_Demo.Mixed-Case');
  const rec = release(cl, 'alice/dev', 'wh-demo-mixed-case', '0.1.0')!;
  assert.equal(rec.links.length, 1);
  const link = rec.links[0]!;
  assert.equal(link.entrypath, entrypathFor('alice/dev', sha('a'), 'Wh_Demo.Mixed-Case-0.1.0.tar.gz'));
  assert.equal(link.entrypath, `alice/dev/+f/aaa/${'a'.repeat(13)}/Wh_Demo.Mixed-Case-0.1.0.tar.gz`);
  assert.equal(link.requires_python, '>=3.8');
  assert.deepEqual(link.log.map((e) => [e.what, e.who, e.dst]), [['upload', 'alice', 'alice/dev']]);
  const entry = cl.get<FileEntry>(keys.file(link.entrypath))!;
  assert.deepEqual({ ...entry, modified: 0 }, { sha256: sha('a'), size: 10, project: 'wh-demo-mixed-case', version: '0.1.0', rel: 'releasefile', modified: 0 });
});

test('volatile index: re-upload with other content overwrites and logs an overwrite with a running count', async () => {
  const cl = await setup();
  const up = (c: string) => cl.write((tx) => attachFile(tx, 'alice/dev', meta('1.0'), file('foo-1.0.tar.gz', c), 'releasefile', 'alice'));
  assert.equal((await up('a')).result, 'created');
  const second = await up('b');
  assert.equal(second.result, 'overwritten');
  assert.notEqual(second.serial, null);
  let links = release(cl, 'alice/dev', 'foo', '1.0')!.links;
  assert.equal(links.length, 1, 'one link per file name');
  assert.equal(links[0]!.sha256, sha('b'));
  assert.deepEqual(links[0]!.log.map((e) => [e.what, e.count]), [['overwrite', 1], ['upload', undefined]]);
  // the old +f path is gone, the new one is there
  assert.equal(cl.get(keys.file(entrypathFor('alice/dev', sha('a'), 'foo-1.0.tar.gz'))), undefined);
  assert.ok(cl.get(keys.file(entrypathFor('alice/dev', sha('b'), 'foo-1.0.tar.gz'))));
  assert.equal((await up('c')).result, 'overwritten');
  links = release(cl, 'alice/dev', 'foo', '1.0')!.links;
  assert.deepEqual(links[0]!.log.filter((e) => e.what === 'overwrite').map((e) => e.count), [2]);
});

test('volatile index: identical re-upload writes nothing', async () => {
  const cl = await setup();
  await cl.write((tx) => attachFile(tx, 'alice/dev', meta('1.0'), file('foo-1.0.tar.gz', 'a'), 'releasefile', 'alice'));
  const again = await cl.write((tx) => attachFile(tx, 'alice/dev', meta('1.0'), file('foo-1.0.tar.gz', 'a'), 'releasefile', 'alice'));
  assert.equal(again.result, 'identical');
  assert.equal(again.serial, null);
});

test('non-volatile index: identical re-upload → identical, other content → 409 and the original stays', async () => {
  const cl = await setup();
  await cl.write((tx) => attachFile(tx, 'alice/prod', meta('1.0'), file('foo-1.0.tar.gz', 'a'), 'releasefile', 'alice'));
  const same = await cl.write((tx) => attachFile(tx, 'alice/prod', meta('1.0'), file('foo-1.0.tar.gz', 'a'), 'releasefile', 'alice'));
  assert.equal(same.result, 'identical');
  assert.equal(same.serial, null);
  await rejectsWith(
    cl.write((tx) => attachFile(tx, 'alice/prod', meta('1.0'), file('foo-1.0.tar.gz', 'b'), 'releasefile', 'alice')),
    409,
    /foo-1.0.tar.gz already exists in non-volatile index/,
  );
  assert.equal(release(cl, 'alice/prod', 'foo', '1.0')!.links[0]!.sha256, sha('a'));
  // another file of the same version is fine
  const wheel = await cl.write((tx) => attachFile(tx, 'alice/prod', meta('1.0'), file('foo-1.0-py3-none-any.whl', 'c'), 'releasefile', 'alice'));
  assert.equal(wheel.result, 'created');
});

test('simple page files: a file name seen in an earlier stage hides the same name in a base', async () => {
  const cl = await setup();
  await cl.write((tx) => {
    attachFile(tx, 'alice/base', meta('1.0'), file('foo-1.0.tar.gz', 'a'), 'releasefile', 'alice');
    attachFile(tx, 'alice/base', meta('0.9'), file('foo-0.9.tar.gz', 'b'), 'releasefile', 'alice');
    attachFile(tx, 'alice/dev', meta('1.0'), file('foo-1.0.tar.gz', 'c'), 'releasefile', 'alice');
    attachFile(tx, 'alice/dev', meta('2.0'), file('foo-2.0.tar.gz', 'd'), 'releasefile', 'alice');
    attachFile(tx, 'alice/dev', meta('2.0'), file('foo-2.0.doc.zip', 'e'), 'doczip', 'alice');
  });
  const links = simpleFiles(cl, 'alice/dev', 'foo').map((f) => [f.stage, f.filename, f.sha256?.[0]]);
  assert.deepEqual(links, [
    ['alice/dev', 'foo-2.0.tar.gz', 'd'],
    ['alice/dev', 'foo-1.0.tar.gz', 'c'],
    ['alice/base', 'foo-0.9.tar.gz', 'b'],
  ]);
  assert.deepEqual(simpleFiles(cl, 'alice/base', 'foo').map((f) => f.sha256?.[0]), ['a', 'b']);
  const files = simpleFiles(cl, 'alice/dev', 'foo');
  assert.deepEqual(simpleVersions(cl, 'alice/dev', 'foo', files, mirrorPolicy(cl, 'alice/dev', 'foo')), ['0.9', '1.0', '2.0']);
  const merged = mergedReleases(cl, 'alice/dev', 'foo');
  const v1 = merged.find((r) => r.version === '1.0')!;
  assert.equal(v1.stage, 'alice/dev');
  assert.deepEqual(v1.shadowing.map((s) => s.stage), ['alice/base']);
  assert.deepEqual(mergedReleases(cl, 'alice/dev', 'foo', true).map((r) => r.version), ['1.0', '2.0']);
});

test('validateReleaseFile: name, version and extension checks (400)', () => {
  assert.doesNotThrow(() => validateReleaseFile('Wh_Demo.Mixed-Case', '0.1.0a1', 'Wh_Demo.Mixed-Case-0.1.0a1.tar.gz'));
  assert.doesNotThrow(() => validateReleaseFile('foo-bar', '1.0', 'foo_bar-1.0-py3-none-any.whl'));
  assert.doesNotThrow(() => validateReleaseFile('foo', '1.0-1', 'foo-1.0_1-py3-none-any.whl'));
  const bad: Array<[string, string, string, RegExp]> = [
    ['', '1.0', 'foo-1.0.tar.gz', /missing "name"/],
    ['foo', '', 'foo-1.0.tar.gz', /missing "version"/],
    ['-foo', '1.0', 'foo-1.0.tar.gz', /invalid project name/],
    ['foo', '1.0<2', 'foo-1.0.tar.gz', /invalid version/],
    ['foo', '1.0', '../foo-1.0.tar.gz', /path separators/],
    ['foo', '1.0', 'foo-1.0.exe.txt', /extension/],
    ['foo', '1.0', 'bar-1.0.tar.gz', /does not match project name/],
    ['foo', '2.0', 'foo-1.0.tar.gz', /is not the version/],
    ['foo', '1.0', 'foo-11.0.tar.gz', /is not the version/],
  ];
  for (const [name, version, filename, re] of bad) {
    assert.throws(() => validateReleaseFile(name, version, filename), (err: unknown) => {
      assert.ok(err instanceof WheelhouseError && statusOf(err) === 400, `${filename}: ${String(err)}`);
      assert.match(err.message, re);
      return true;
    });
  }
});

test('deleteVersion: deletes one version, the last one takes the project; 404 unknown', async () => {
  const cl = await setup();
  await cl.write((tx) => {
    attachFile(tx, 'alice/dev', meta('1.0'), file('foo-1.0.tar.gz', 'a'), 'releasefile', 'alice');
    attachFile(tx, 'alice/dev', meta('2.0'), file('foo-2.0.tar.gz', 'b'), 'releasefile', 'alice');
  });
  await cl.write((tx) => deleteVersion(tx, 'alice/dev', 'foo', '1.0', false));
  assert.equal(release(cl, 'alice/dev', 'foo', '1.0'), undefined);
  assert.equal(cl.get(keys.file(entrypathFor('alice/dev', sha('a'), 'foo-1.0.tar.gz'))), undefined);
  assert.ok(getProject(cl, 'alice/dev', 'foo'));
  await rejectsWith(cl.write((tx) => deleteVersion(tx, 'alice/dev', 'foo', '1.0', false)), 404);
  await cl.write((tx) => deleteVersion(tx, 'alice/dev', 'foo', '2.0', false));
  assert.equal(getProject(cl, 'alice/dev', 'foo'), undefined);
  assert.deepEqual(cl.children('project/alice/dev'), []);
});

test('non-volatile: deleting a project, version or file is 403 without force, allowed with it', async () => {
  const cl = await setup();
  await cl.write((tx) => {
    attachFile(tx, 'alice/prod', meta('1.0'), file('foo-1.0.tar.gz', 'a'), 'releasefile', 'alice');
    attachFile(tx, 'alice/prod', meta('2.0'), file('foo-2.0.tar.gz', 'b'), 'releasefile', 'alice');
    attachFile(tx, 'alice/prod', meta('3.0'), file('foo-3.0.tar.gz', 'c'), 'releasefile', 'alice');
  });
  const ep = entrypathFor('alice/prod', sha('c'), 'foo-3.0.tar.gz');
  await rejectsWith(cl.write((tx) => deleteVersion(tx, 'alice/prod', 'foo', '1.0', false)), 403, /non-volatile/);
  await rejectsWith(cl.write((tx) => deleteFile(tx, ep, false)), 403, /non-volatile/);
  await rejectsWith(cl.write((tx) => deleteProject(tx, 'alice/prod', 'foo', false)), 403, /non-volatile/);
  assert.ok(release(cl, 'alice/prod', 'foo', '1.0'));
  await cl.write((tx) => deleteVersion(tx, 'alice/prod', 'foo', '1.0', true));
  assert.equal(release(cl, 'alice/prod', 'foo', '1.0'), undefined);
  await cl.write((tx) => deleteFile(tx, ep, true));
  assert.equal(release(cl, 'alice/prod', 'foo', '3.0'), undefined);
  await cl.write((tx) => deleteProject(tx, 'alice/prod', 'foo', true));
  assert.equal(getProject(cl, 'alice/prod', 'foo'), undefined);
  assert.deepEqual(cl.children('release/alice/prod/foo'), []);
  await rejectsWith(cl.write((tx) => deleteProject(tx, 'alice/prod', 'foo', true)), 404);
});

test('deleteFile: removes the file and its test results; the version stays while it has another release file', async () => {
  const cl = await setup();
  await cl.write((tx) => {
    attachFile(tx, 'alice/dev', meta('1.0'), file('foo-1.0.tar.gz', 'a'), 'releasefile', 'alice');
    attachFile(tx, 'alice/dev', meta('1.0'), file('foo-1.0-py3-none-any.whl', 'b'), 'releasefile', 'alice');
  });
  const sdist = entrypathFor('alice/dev', sha('a'), 'foo-1.0.tar.gz');
  const wheel = entrypathFor('alice/dev', sha('b'), 'foo-1.0-py3-none-any.whl');
  const { result: tox } = await cl.write((tx) => attachToxResult(tx, sdist, { sha256: sha('f'), size: 5 }, null));
  assert.equal(tox.for_entrypath, sdist);
  assert.match(tox.filename, /^foo-1\.0\.tar\.gz\.toxresult-\d{14}-0$/);
  assert.ok(cl.get(keys.file(tox.entrypath)));
  await cl.write((tx) => deleteFile(tx, sdist, false));
  assert.equal(cl.get(keys.file(sdist)), undefined);
  assert.equal(cl.get(keys.file(tox.entrypath)), undefined, 'the test result goes with its file');
  assert.deepEqual(release(cl, 'alice/dev', 'foo', '1.0')!.links.map((l) => l.filename), ['foo-1.0-py3-none-any.whl']);
  await rejectsWith(cl.write((tx) => deleteFile(tx, sdist, false)), 404);
  // the last release file takes the version and the project with it
  await cl.write((tx) => deleteFile(tx, wheel, false));
  assert.equal(release(cl, 'alice/dev', 'foo', '1.0'), undefined);
  assert.equal(getProject(cl, 'alice/dev', 'foo'), undefined);
});

test('attachToxResult: 404 for a path that is not a release file', async () => {
  const cl = await setup();
  await rejectsWith(cl.write((tx) => attachToxResult(tx, 'alice/dev/+f/aaa/bbbbbbbbbbbbb/foo-1.0.tar.gz', { sha256: sha('f'), size: 1 }, null)), 404);
});

test('deleteVersions removes the versions present with their file entries, skips missing ones, and the project once none is left; 403 on a non-volatile index without force', async () => {
  const cl = await setup();
  await cl.write((tx) => {
    for (const [v, c] of [['1.0', 'a'], ['1.1', 'b'], ['2.0', 'c']] as const) attachFile(tx, 'alice/dev', meta(v), file(`foo-${v}.tar.gz`, c), 'releasefile', 'alice');
    attachFile(tx, 'alice/prod', meta('1.0'), file('foo-1.0.tar.gz', 'd'), 'releasefile', 'alice');
  });
  const entry = keys.file(entrypathFor('alice/dev', sha('a'), 'foo-1.0.tar.gz'));
  assert.ok(cl.get(entry), 'the file entry exists before');
  const { result } = await cl.write((tx) => deleteVersions(tx, 'alice/dev', 'foo', ['1.0', '1.1', '9.9'], false));
  assert.deepEqual(result, ['1.0', '1.1']);
  assert.equal(release(cl, 'alice/dev', 'foo', '1.0'), undefined);
  assert.equal(cl.get(entry), undefined, 'its file entry is gone');
  assert.ok(getProject(cl, 'alice/dev', 'foo'), 'the project stays while a version is left');
  const none = await cl.write((tx) => deleteVersions(tx, 'alice/dev', 'foo', ['1.0'], false));
  assert.deepEqual(none.result, []);
  assert.equal(none.serial, null, 'nothing to delete writes no record');
  await cl.write((tx) => deleteVersions(tx, 'alice/dev', 'foo', ['2.0'], false));
  assert.equal(getProject(cl, 'alice/dev', 'foo'), undefined, 'the last version took the project with it');
  await rejectsWith(cl.write((tx) => deleteVersions(tx, 'alice/prod', 'foo', ['1.0'], false)), 403, /non-volatile/);
  const forced = await cl.write((tx) => deleteVersions(tx, 'alice/prod', 'foo', ['1.0'], true));
  assert.deepEqual(forced.result, ['1.0']);
});
