import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareVersions, isPrerelease, latestVersion, sortVersions } from './versions.js';

test('sortVersions orders by PEP 440: dev < pre < final < post', () => {
  const ordered = ['1.0.dev1', '1.0a1.dev2', '1.0a1', '1.0a2', '1.0b1', '1.0rc1', '1.0', '1.0.post1.dev1', '1.0.post1', '1.1.dev0', '1.1', '1.10', '2!0.1'];
  const shuffled = [...ordered].reverse();
  shuffled.push(shuffled.shift()!);
  assert.deepEqual(sortVersions(shuffled), ordered);
  // the input is not changed
  assert.notDeepEqual(shuffled, ordered);
});

test('compareVersions: numeric (not string) order, equivalent spellings are equal', () => {
  assert.ok(compareVersions('1.10', '1.9') > 0);
  assert.ok(compareVersions('1.9', '1.10') < 0);
  assert.equal(compareVersions('1.0', '1.0.0'), 0);
  assert.equal(compareVersions('1.0-alpha1', '1.0a1'), 0);
  assert.ok(compareVersions('1.0+local', '1.0') > 0);
});

test('compareVersions: strings that are not PEP 440 sort before every PEP 440 version (devpi LegacyVersion)', () => {
  assert.ok(compareVersions('banana', '0.0.1.dev0') < 0);
  assert.ok(compareVersions('0.0.1.dev0', 'banana') > 0);
  assert.ok(compareVersions('apple', 'banana') < 0);
  assert.equal(compareVersions('banana', 'banana'), 0);
  assert.deepEqual(sortVersions(['1.0', 'zzz', '0.1', 'aaa']), ['aaa', 'zzz', '0.1', '1.0']);
});

test('isPrerelease: a, b, rc and dev are pre-releases; post and invalid strings are not', () => {
  for (const v of ['1.0a1', '1.0b2', '1.0rc1', '2.0.dev3', '1.0.post1.dev1']) assert.equal(isPrerelease(v), true, v);
  for (const v of ['1.0', '1.0.post1', 'banana']) assert.equal(isPrerelease(v), false, v);
});

test('latestVersion: highest overall, or with stable the highest final release', () => {
  const vs = ['1.0', '2.0a1', '1.5', '1.5.post1', '2.0.dev1'];
  assert.equal(latestVersion(vs), '2.0a1');
  assert.equal(latestVersion(vs, true), '1.5.post1');
  // only pre-releases: stable falls back to the highest of them
  assert.equal(latestVersion(['1.0a1', '1.0b1'], true), '1.0b1');
  assert.equal(latestVersion([]), undefined);
  assert.equal(latestVersion([], true), undefined);
  // accepts any iterable
  assert.equal(latestVersion(new Set(['0.9', '0.10'])), '0.10');
});

test('latestVersion is the last of a stable sort: of versions comparing equal the last given wins; order of input does not matter otherwise; empty → undefined', () => {
  assert.equal(latestVersion(['1.0', '1.0.0']), sortVersions(['1.0', '1.0.0']).at(-1));
  assert.equal(latestVersion(['1.0.0', '1.0']), '1.0');
  assert.equal(latestVersion(['1.0.0', '1.0'], true), '1.0');
  const many = Array.from({ length: 500 }, (_, i) => `1.0.dev${(i * 7919) % 500}`);
  assert.equal(latestVersion(many), '1.0.dev499');
  assert.equal(latestVersion([...many, '0.9'], true), '0.9');
  assert.equal(latestVersion([]), undefined);
  assert.equal(latestVersion([], true), undefined);
});
