import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WheelhouseError } from './errors.js';
import { statusOf } from '@wheelhouse/http';
import {
  assertSafeFileName,
  assertValidProjectName,
  isValidProjectName,
  isValidUserOrIndexName,
  normalizeProjectName,
  parseFileName,
  wheelEscape,
} from './names.js';

/** Asserts `fn` throws a WheelhouseError with HTTP status 400 whose message matches `message`. */
function assertBadRequest(fn: () => unknown, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof WheelhouseError, `expected a WheelhouseError, got ${String(err)}`);
    assert.equal(statusOf(err), 400);
    if (message) assert.match(err.message, message);
    return true;
  });
}

test('normalizeProjectName: runs of non-alphanumerics become one dash, lower-cased', () => {
  assert.equal(normalizeProjectName('Wh_Demo.Mixed-Case'), 'wh-demo-mixed-case');
  assert.equal(normalizeProjectName('Foo__Bar'), 'foo-bar');
  assert.equal(normalizeProjectName('foo._-bar'), 'foo-bar');
  assert.equal(normalizeProjectName('Django'), 'django');
  // devpi's broader rule (§3.6): anything outside [A-Za-z0-9], not only [-_.]
  assert.equal(normalizeProjectName('a+b'), 'a-b');
  // idempotent
  assert.equal(normalizeProjectName(normalizeProjectName('Zope.Interface_X')), 'zope-interface-x');
});

test('normalizeProjectName equals PEP 503 on every valid name (the edge cases)', () => {
  const pep503 = (name: string): string => name.replace(/[-_.]+/g, '-').toLowerCase();
  for (const name of ['a', 'A', '0', 'a.b', 'a_b', 'a-b', 'A__B', 'a-_.-b', 'a...b', 'Zope.Interface', 'x1.2_3-4', 'ABC-def_GHI.jkl', 'pip', 'PyYAML']) {
    assert.ok(isValidProjectName(name), name);
    assert.equal(normalizeProjectName(name), pep503(name), name);
  }
  assert.equal(normalizeProjectName('A-_.-B'), 'a-b');
  assert.equal(normalizeProjectName('PyYAML'), 'pyyaml');
});

test('normalizeProjectName on strings that are not valid names: one stable form, as devpi (§3.6)', () => {
  assert.equal(normalizeProjectName('flask login'), 'flask-login');
  assert.equal(normalizeProjectName('c++'), 'c-');
  assert.equal(normalizeProjectName('-lead.trail_'), '-lead-trail-');
  assert.equal(normalizeProjectName('ä-b'), '-b');
  assert.equal(normalizeProjectName(''), '');
  for (const s of ['flask login', 'c++', 'ä-b', 'a+b']) assert.equal(normalizeProjectName(normalizeProjectName(s)), normalizeProjectName(s), s);
});

test('isValidProjectName accepts PEP 508 names and refuses the rest', () => {
  for (const ok of ['a', 'A1', 'Wh_Demo.Mixed-Case', 'foo-bar', 'x.y_z', '0']) assert.equal(isValidProjectName(ok), true, ok);
  for (const bad of ['', '-a', 'a-', '.a', 'a_', 'a b', 'a+b', 'a/b', 'ä', 'foo!']) assert.equal(isValidProjectName(bad), false, bad);
  assertBadRequest(() => assertValidProjectName('-bad-'), /invalid project name '-bad-'/);
  assert.doesNotThrow(() => assertValidProjectName('good.name'));
});

test('isValidUserOrIndexName follows devpi (§1.4): no space, no reserved punctuation, not . or ..', () => {
  for (const ok of ['alice', 'a.b@c-d_e', 'dev', 'Ünïcode']) assert.equal(isValidUserOrIndexName(ok), true, ok);
  for (const bad of ['', 'a b', 'a/b', 'a:b', 'a?b', 'a#b', '.', '..', 'a\tb', 'x'.repeat(129)]) {
    assert.equal(isValidUserOrIndexName(bad), false, JSON.stringify(bad));
  }
});

test('parseFileName: wheels, with and without a build tag', () => {
  assert.deepEqual(parseFileName('wh_demo-0.1.0-py3-none-any.whl'), {
    name: 'wh_demo',
    version: '0.1.0',
    kind: 'bdist_wheel',
    tags: 'py3-none-any',
  });
  assert.deepEqual(parseFileName('foo_bar-1.0-1-cp311-cp311-manylinux_2_17_x86_64.whl'), {
    name: 'foo_bar',
    version: '1.0',
    kind: 'bdist_wheel',
    tags: 'cp311-cp311-manylinux_2_17_x86_64',
  });
  assert.deepEqual(parseFileName('Wh_Demo.Mixed_Case-0.1.0a1-2abc-py2.py3-none-any.whl'), {
    name: 'Wh_Demo.Mixed_Case',
    version: '0.1.0a1',
    kind: 'bdist_wheel',
    tags: 'py2.py3-none-any',
  });
  // too few parts for a wheel name
  assert.equal(parseFileName('foo-1.0.whl'), undefined);
});

test('parseFileName: sdists, the name may contain dashes, dots and underscores', () => {
  assert.deepEqual(parseFileName('foo-bar-1.0.tar.gz'), { name: 'foo-bar', version: '1.0', kind: 'sdist' });
  assert.deepEqual(parseFileName('Wh_Demo.Mixed-Case-0.1.0a1.tar.gz'), {
    name: 'Wh_Demo.Mixed-Case',
    version: '0.1.0a1',
    kind: 'sdist',
  });
  assert.deepEqual(parseFileName('pkg-2.0.post1.zip'), { name: 'pkg', version: '2.0.post1', kind: 'sdist' });
  assert.deepEqual(parseFileName('pkg-1.0.TGZ'), { name: 'pkg', version: '1.0', kind: 'sdist' });
  assert.deepEqual(parseFileName('pkg-3.1.tar.bz2'), { name: 'pkg', version: '3.1', kind: 'sdist' });
  assert.deepEqual(parseFileName('foo-1.0-py3.11.egg'), { name: 'foo', version: '1.0', kind: 'bdist_egg' });
  assert.equal(parseFileName('noversion.tar.gz'), undefined);
  assert.equal(parseFileName('foo-1.0.txt'), undefined);
});

test('assertSafeFileName refuses path tricks and unknown extensions', () => {
  for (const ok of ['foo-1.0.tar.gz', 'foo-1.0-py3-none-any.whl', 'foo-1.0.zip', 'FOO-1.0.TAR.GZ', 'foo-1.0.tar.xz']) {
    assert.doesNotThrow(() => assertSafeFileName(ok), ok);
  }
  for (const bad of ['../x.whl', 'a/b.whl', 'a\\b.whl', '.hidden-1.0.whl', '', 'x\0.whl']) {
    assertBadRequest(() => assertSafeFileName(bad), /without path separators/);
  }
  for (const bad of ['foo-1.0.py', 'foo-1.0.tar', 'foo-1.0.whl.txt', 'foo-1.0.gz', 'foo-1.0']) {
    assertBadRequest(() => assertSafeFileName(bad), /extension must be one of/);
  }
});

test('wheelEscape turns runs of non-word characters into one underscore (PEP 427)', () => {
  assert.equal(wheelEscape('foo-bar'), 'foo_bar');
  assert.equal(wheelEscape('a--b'), 'a_b');
  assert.equal(wheelEscape('1.0+local-x'), '1.0_local_x');
  assert.equal(wheelEscape('Wh_Demo.Mixed-Case'), 'Wh_Demo.Mixed_Case');
  // not a canonical name: case and dots stay; it normalises to the same project name
  assert.notEqual(wheelEscape('Foo.Bar'), normalizeProjectName('Foo.Bar'));
  assert.equal(normalizeProjectName(wheelEscape('Foo.Bar-baz')), normalizeProjectName('Foo.Bar-baz'));
});
