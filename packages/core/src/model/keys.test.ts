import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatKey, keyKind, keys, lastSegment, parseKey, type StorageKey } from './keys.js';
import { entrypathFor } from './stage-paths.js';

const SHA = '0123456789abcdef'.repeat(4);

/** One key of every kind, as the model's builders write it, with the fields it must parse to. */
const EXAMPLES: Array<[string, StorageKey]> = [
  [keys.user('alice'), { kind: 'user', user: 'alice' }],
  [keys.index('alice', 'dev'), { kind: 'index', user: 'alice', index: 'dev' }],
  [keys.project('alice/dev', 'wh-demo'), { kind: 'project', user: 'alice', index: 'dev', project: 'wh-demo' }],
  [keys.release('alice/dev', 'wh-demo', '1.0rc1+local.7'), { kind: 'release', user: 'alice', index: 'dev', project: 'wh-demo', version: '1.0rc1+local.7' }],
  [
    keys.file(entrypathFor('alice/dev', SHA, 'wh_demo-1.0-py3-none-any.whl')),
    { kind: 'file', user: 'alice', index: 'dev', h3: '012', h13: '3456789abcdef', filename: 'wh_demo-1.0-py3-none-any.whl' },
  ],
  [keys.mirrorProject('root/pypi', 'requests'), { kind: 'mirror', user: 'root', index: 'pypi', project: 'requests' }],
  [keys.mirrorList('root/pypi'), { kind: 'mirrorlist', user: 'root', index: 'pypi' }],
];

test('parseKey reads what the builders write, for every kind, and formatKey writes it back', () => {
  const kinds = new Set<string>();
  for (const [key, parsed] of EXAMPLES) {
    assert.deepEqual(parseKey(key), parsed, key);
    assert.equal(formatKey(parsed), key, key);
    assert.equal(keyKind(key), parsed.kind, key);
    kinds.add(parsed.kind);
  }
  assert.deepEqual([...kinds].sort(), ['file', 'index', 'mirror', 'mirrorlist', 'project', 'release', 'user']);
});

test('the exact key strings stay as stored (a change here would orphan every existing store)', () => {
  assert.deepEqual(
    EXAMPLES.map(([key]) => key),
    [
      'user/alice',
      'index/alice/dev',
      'project/alice/dev/wh-demo',
      'release/alice/dev/wh-demo/1.0rc1+local.7',
      'file/alice/dev/012/3456789abcdef/wh_demo-1.0-py3-none-any.whl',
      'mirror/root/pypi/requests',
      'mirrorlist/root/pypi',
    ],
  );
});

test('parent keys are the parents the changelog indexes children under', () => {
  assert.equal(keys.users(), 'user');
  assert.equal(keys.indexesOf('alice'), 'index/alice');
  assert.equal(keys.projectsOf('alice/dev'), 'project/alice/dev');
  assert.equal(keys.releasesOf('alice/dev', 'p'), 'release/alice/dev/p');
  assert.equal(keys.mirrorProjectsOf('root/pypi'), 'mirror/root/pypi');
  for (const [parent, child] of [
    [keys.users(), keys.user('a')],
    [keys.indexesOf('a'), keys.index('a', 'b')],
    [keys.projectsOf('a/b'), keys.project('a/b', 'p')],
    [keys.releasesOf('a/b', 'p'), keys.release('a/b', 'p', '1')],
    [keys.mirrorProjectsOf('a/b'), keys.mirrorProject('a/b', 'p')],
  ] as const) {
    assert.equal(child.slice(0, child.lastIndexOf('/')), parent);
  }
});

test('parseKey refuses malformed keys', () => {
  const h13 = '3456789abcdef';
  for (const bad of [
    '',
    'user',
    'user/',
    'user/a/b',
    'users/a',
    'unknown/a/b',
    '/user/a',
    'index/a',
    'index//b',
    'index/a/',
    'index/a/b/c',
    'project/a/b',
    'project/a/b/p/x',
    'release/a/b/p',
    'release/a/b/p/1.0/',
    'release/a/b//1.0',
    `file/a/b/012/${h13}`,
    `file/a/b/012/${h13}/`,
    `file/a/b/012/${h13}/f/g.whl`,
    `file/a/b/+f/012/${h13}/f.whl`,
    `file/a/b/01/${h13}/f.whl`,
    `file/a/b/0123/${h13}/f.whl`,
    `file/a/b/ABC/${h13}/f.whl`,
    `file/a/b/012/${h13.toUpperCase()}/f.whl`,
    'file/a/b/012/3456789abcde/f.whl',
    'file/a/b/xyz/3456789abcdef/f.whl',
    'mirror/a/b',
    'mirror/a/b/p/q',
    'mirrorlist/a',
    'mirrorlist/a/b/c',
    'constructor/a',
    '__proto__/a',
  ]) {
    assert.equal(parseKey(bad), undefined, JSON.stringify(bad));
  }
});

test('keyKind reads the first segment only; unknown or missing kinds are undefined', () => {
  assert.equal(keyKind('file/odd'), 'file');
  assert.equal(keyKind('mirrorlist/a/b'), 'mirrorlist');
  assert.equal(keyKind('mirror/a/b/c'), 'mirror');
  for (const bad of ['', 'user', '/user/a', 'users/a', 'toString/a', 'hasOwnProperty/x']) assert.equal(keyKind(bad), undefined, bad);
});

test('formatKey refuses fields that would build a key parsing differently', () => {
  assert.throws(() => formatKey({ kind: 'user', user: '' }), TypeError);
  assert.throws(() => formatKey({ kind: 'index', user: 'a', index: 'b/c' }), /invalid index "b\/c" for a index key/);
  assert.throws(() => formatKey({ kind: 'release', user: 'a', index: 'b', project: 'p', version: '1/2' }), TypeError);
});

test('lastSegment is a child key\'s name', () => {
  assert.equal(lastSegment('release/a/b/p/1.0'), '1.0');
  assert.equal(lastSegment('user/alice'), 'alice');
  assert.equal(lastSegment('user'), 'user');
});
