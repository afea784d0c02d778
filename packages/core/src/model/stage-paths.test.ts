import { test } from 'node:test';
import assert from 'node:assert/strict';
import { entrypathFor, parseEntrypath, parseStage, siblingEntrypath, splitStage, stageOfEntrypath, stagePath } from './stage-paths.js';

const SHA = 'abcdef0123456789'.repeat(4);

test('stagePath and parseStage round-trip', () => {
  assert.equal(stagePath('alice', 'dev'), 'alice/dev');
  assert.deepEqual(parseStage(stagePath('alice', 'dev')), ['alice', 'dev']);
  assert.deepEqual(parseStage('a.b@c/d-e_f'), ['a.b@c', 'd-e_f']);
});

test('parseStage refuses anything but two non-empty segments', () => {
  for (const bad of ['', 'alice', '/dev', 'alice/', '/', 'a/b/c', 'a//b', '/a/b']) assert.equal(parseStage(bad), undefined, JSON.stringify(bad));
});

test('splitStage never throws, and a malformed stage names no index', () => {
  assert.deepEqual(splitStage('alice/dev'), ['alice', 'dev']);
  // a URL segment with %2F decoded: before, 'alice/dev/x' was read as alice/dev
  assert.deepEqual(splitStage('alice/dev/x'), ['alice', 'dev/x']);
  assert.deepEqual(splitStage('alice'), ['alice', '']);
  assert.deepEqual(splitStage(''), ['', '']);
});

test('entrypathFor, parseEntrypath and stageOfEntrypath agree (devpi +f layout)', () => {
  const path = entrypathFor('alice/dev', SHA, 'pkg-1.0.tar.gz');
  assert.equal(path, 'alice/dev/+f/abc/def0123456789/pkg-1.0.tar.gz');
  assert.deepEqual(parseEntrypath(path), { user: 'alice', index: 'dev', h3: 'abc', h13: 'def0123456789', filename: 'pkg-1.0.tar.gz' });
  assert.equal(stageOfEntrypath(path), 'alice/dev');
  assert.equal(stageOfEntrypath('no-plus-f'), 'no-plus-f');
});

test('parseEntrypath refuses other shapes', () => {
  for (const bad of ['', 'alice/dev/+f/abc/def/', 'alice/dev/+e/abc/def/f.whl', 'alice/dev/+f/abc/f.whl', 'alice/dev/+f/abc/def/x/f.whl', '/dev/+f/abc/def/f.whl']) {
    assert.equal(parseEntrypath(bad), undefined, JSON.stringify(bad));
  }
});

test('siblingEntrypath puts a test result beside its release file', () => {
  const path = entrypathFor('alice/dev', SHA, 'pkg-1.0.tar.gz');
  assert.equal(siblingEntrypath(path, 'pkg-1.0.tar.gz.toxresult-20260101000000-0'), 'alice/dev/+f/abc/def0123456789/pkg-1.0.tar.gz.toxresult-20260101000000-0');
});
