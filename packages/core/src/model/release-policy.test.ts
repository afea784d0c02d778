import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Changelog } from '@wheelhouse/changelog';
import { statusOf } from '@wheelhouse/http';
import { userPrincipal } from '../acl.js';
import { WheelhouseError } from '../errors.js';
import { versionKinds } from '../versions.js';
import { createUser } from './users.js';
import { checkIndexConfigInput, createIndex, indexView, modifyIndex } from './indexes.js';
import { attachFile, registerRelease, type NewFile } from './releases.js';
import { pushRelease } from './push.js';
import { keys } from './keys.js';
import type { ReleaseRecord, StageConfig } from './records.js';

async function rejectsWith(p: Promise<unknown>, status: number, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof WheelhouseError, `expected a WheelhouseError, got ${String(err)}`);
    assert.equal(statusOf(err), status, err.message);
    assert.match(err.message, message);
    return true;
  });
}

const file = (filename: string, c: string): NewFile => ({ filename, sha256: c.repeat(64), size: 10 });

/** alice/dev (no policy) and alice/prod (finals and post releases only). */
async function setup(): Promise<Changelog> {
  const cl = await Changelog.openInMemory();
  await cl.write((tx) => {
    createUser(tx, 'alice', {});
    createIndex(tx, 'alice', 'dev', {});
    createIndex(tx, 'alice', 'prod', { allowed_versions: ['final', 'post'] });
  });
  return cl;
}

test('versionKinds names the PEP 440 segments a version carries, final when none', () => {
  assert.deepEqual(versionKinds('1.0'), ['final']);
  assert.deepEqual(versionKinds('1!2.0'), ['final']);
  assert.deepEqual(versionKinds('1.0rc1'), ['pre']);
  assert.deepEqual(versionKinds('1.0.post2'), ['post']);
  assert.deepEqual(versionKinds('1.0.dev3'), ['dev']);
  assert.deepEqual(versionKinds('1.0+ubuntu1'), ['local']);
  assert.deepEqual(versionKinds('1.0a1.post2.dev3+x'), ['pre', 'post', 'dev', 'local']);
  assert.equal(versionKinds('not a version'), undefined);
});

test('an index with allowed_versions refuses an upload of a pre-release, dev release or local version with 409 naming policy and version', async () => {
  const cl = await setup();
  for (const [version, why] of [['1.0rc1', 'a pre-release'], ['1.0.dev1', 'a dev release'], ['1.0+local', 'a local version']] as const) {
    await rejectsWith(
      cl.write((tx) => attachFile(tx, 'alice/prod', { name: 'foo', version }, file(`foo-${version}.tar.gz`, 'a'), 'releasefile', 'alice')),
      409,
      new RegExp(`foo ${version.replace(/[.+]/g, '\\$&')} refused by alice/prod's policy allowed_versions=final,post: .* is ${why}`),
    );
    await rejectsWith(cl.write((tx) => registerRelease(tx, 'alice/prod', { name: 'foo', version })), 409, /allowed_versions/);
  }
  // nothing was written
  assert.deepEqual(cl.children(keys.releasesOf('alice/prod', 'foo')), []);
  // finals and post releases go in; the policy-less index takes anything
  await cl.write((tx) => attachFile(tx, 'alice/prod', { name: 'foo', version: '1.0' }, file('foo-1.0.tar.gz', 'b'), 'releasefile', 'alice'));
  await cl.write((tx) => attachFile(tx, 'alice/prod', { name: 'foo', version: '1.0.post1' }, file('foo-1.0.post1.tar.gz', 'c'), 'releasefile', 'alice'));
  await cl.write((tx) => attachFile(tx, 'alice/dev', { name: 'foo', version: '2.0rc1' }, file('foo-2.0rc1.tar.gz', 'd'), 'releasefile', 'alice'));
  assert.equal(cl.children(keys.releasesOf('alice/prod', 'foo')).length, 2);
});

test('push of a pre-release into a policy index is refused (409, nothing written); a final is pushed', async () => {
  const cl = await setup();
  await cl.write((tx) => {
    attachFile(tx, 'alice/dev', { name: 'foo', version: '2.0b1' }, file('foo-2.0b1.tar.gz', 'a'), 'releasefile', 'alice');
    attachFile(tx, 'alice/dev', { name: 'foo', version: '2.0' }, file('foo-2.0.tar.gz', 'b'), 'releasefile', 'alice');
  });
  const head = cl.head;
  await rejectsWith(
    cl.write((tx) => pushRelease(tx, 'alice/dev', { name: 'foo', version: '2.0b1', targetindex: 'alice/prod' }, userPrincipal('alice'))),
    409,
    /foo 2\.0b1 refused by alice\/prod's policy allowed_versions=final,post: 2\.0b1 is a pre-release/,
  );
  assert.equal(cl.head, head);
  await cl.write((tx) => pushRelease(tx, 'alice/dev', { name: 'foo', version: '2.0', targetindex: 'alice/prod' }, userPrincipal('alice')));
  assert.ok(cl.get<ReleaseRecord>(keys.release('alice/prod', 'foo', '2.0')));
});

test('required_files=wheel refuses a push of an sdist-only release, accepts one with a wheel', async () => {
  const cl = await setup();
  await cl.write((tx) => {
    modifyIndex(tx, 'alice', 'prod', ['required_files=wheel']);
    attachFile(tx, 'alice/dev', { name: 'foo', version: '1.0' }, file('foo-1.0.tar.gz', 'a'), 'releasefile', 'alice');
  });
  const push = () => cl.write((tx) => pushRelease(tx, 'alice/dev', { name: 'foo', version: '1.0', targetindex: 'alice/prod' }, userPrincipal('alice')));
  await rejectsWith(push(), 409, /foo 1\.0 refused by alice\/prod's policy required_files=wheel: the release has no wheel file/);
  await cl.write((tx) => attachFile(tx, 'alice/dev', { name: 'foo', version: '1.0' }, file('foo-1.0-py3-none-any.whl', 'b'), 'releasefile', 'alice'));
  await push();
  assert.equal(cl.get<ReleaseRecord>(keys.release('alice/prod', 'foo', '1.0'))?.links.length, 2);
});

test('the policies are set by both PATCH forms (the object form checked as the routes check it), shown in the index view, validated', async () => {
  const cl = await setup();
  const prod = (): StageConfig => indexView(cl, 'alice', 'prod', true) as unknown as StageConfig;
  await cl.write((tx) => modifyIndex(tx, 'alice', 'dev', checkIndexConfigInput({ allowed_versions: 'final, post', required_files: ['wheel', 'sdist'] })));
  const dev = indexView(cl, 'alice', 'dev', true);
  assert.deepEqual(dev['allowed_versions'], ['final', 'post']);
  assert.deepEqual(dev['required_files'], ['wheel', 'sdist']);
  await cl.write((tx) => modifyIndex(tx, 'alice', 'prod', ['allowed_versions+=dev']));
  assert.deepEqual(prod().allowed_versions, ['final', 'post', 'dev']);
  await cl.write((tx) => modifyIndex(tx, 'alice', 'prod', ['allowed_versions-=post']));
  assert.deepEqual(prod().allowed_versions, ['final', 'dev']);
  await cl.write((tx) => modifyIndex(tx, 'alice', 'prod', ['allowed_versions=final']));
  assert.deepEqual(prod().allowed_versions, ['final']);
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'prod', ['allowed_versions=final,beta'])), 400, /allowed_versions/);
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'prod', checkIndexConfigInput({ allowed_versions: ['nightly'] }))), 400, /allowed_versions/);
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'prod', ['allowed_versions+=rc'])), 400, /allowed_versions/);
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'prod', { allowed_versions: [] })), 400, /at least one kind/);
  await rejectsWith(cl.write((tx) => modifyIndex(tx, 'alice', 'prod', ['required_files=egg'])), 400, /required_files/);
  assert.deepEqual(prod().allowed_versions, ['final']);
  // removing the key lifts the policy
  await cl.write((tx) => modifyIndex(tx, 'alice', 'prod', ['allowed_versions-=']));
  assert.equal(prod().allowed_versions, undefined);
  await cl.write((tx) => attachFile(tx, 'alice/prod', { name: 'foo', version: '3.0rc1' }, file('foo-3.0rc1.tar.gz', 'a'), 'releasefile', 'alice'));
});
