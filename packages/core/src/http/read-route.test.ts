import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizePlus, routeRead } from './read-route.js';
import { canonicalRedirect } from './simple-page-response.js';

test('simple pages: project list and project page, with and without the trailing slash', () => {
  assert.deepEqual(routeRead('GET', '/root/pypi/+simple/', undefined), { kind: 'simple', user: 'root', index: 'pypi', slash: true });
  assert.deepEqual(routeRead('HEAD', '/root/pypi/+simple', undefined), { kind: 'simple', user: 'root', index: 'pypi', slash: false });
  assert.deepEqual(routeRead('GET', '/a/dev/+simple/My.Pkg/?x=1', undefined), { kind: 'simple', user: 'a', index: 'dev', project: 'My.Pkg', slash: true });
  assert.deepEqual(routeRead('GET', '/a/dev/+simple/my%20pkg', undefined), { kind: 'simple', user: 'a', index: 'dev', project: 'my pkg', slash: false });
});

test('release files and .metadata, unless JSON is asked for', () => {
  const url = '/a/dev/+f/abc/0123456789abc/demo-1.0-py3-none-any.whl';
  assert.deepEqual(routeRead('GET', url, '*/*'), {
    kind: 'file',
    user: 'a',
    index: 'dev',
    entrypath: 'a/dev/+f/abc/0123456789abc/demo-1.0-py3-none-any.whl',
    filename: 'demo-1.0-py3-none-any.whl',
  });
  assert.equal(routeRead('GET', `${url}.metadata`, undefined)?.kind, 'file');
  assert.equal(routeRead('GET', url, 'application/json'), undefined);
});

test('devpi\'s +e/{dir}/{file} path of a hashless mirror file is a file route; another depth is not', () => {
  assert.deepEqual(routeRead('GET', '/root/pypi/+e/http_127.0.0.1_9_pkg/pkg-1.0.zip', undefined), {
    kind: 'file',
    user: 'root',
    index: 'pypi',
    entrypath: 'root/pypi/+e/http_127.0.0.1_9_pkg/pkg-1.0.zip',
    filename: 'pkg-1.0.zip',
  });
  assert.equal(routeRead('GET', '/root/pypi/+e/a/b/pkg-1.0.zip', undefined), undefined);
  assert.equal(routeRead('GET', '/root/pypi/+e/a/..', undefined), undefined);
});

test('everything else falls through to express', () => {
  for (const [method, url] of [
    ['POST', '/a/dev/+simple/'],
    ['PUT', '/a/dev/+f/a/b/c.whl'],
    ['GET', '/+api'],
    ['GET', '/+status'],
    ['GET', '/a/dev'],
    ['GET', '/a/dev/demo/1.0'],
    ['GET', '/+login/x/+simple/'],
    ['GET', '/a/+x/+simple/'],
    ['GET', '/a/dev/+simple/p/extra/'],
    ['GET', '/a/dev/+simple/%E0%A4%A/'],
    ['GET', '/a/dev/+f/a/../c.whl'],
    ['GET', '/a/dev/+f/a/b/%2e%2e'],
    ['GET', '/a/dev/+f/a/b'],
  ] as const) {
    assert.equal(routeRead(method, url, undefined), undefined, `${method} ${url}`);
  }
});

test('pip\'s percent-encoded + (/%2Bf/) is the same resource', () => {
  assert.equal(normalizePlus('/a/dev/%2Bf/x/y/z.whl'), '/a/dev/+f/x/y/z.whl');
  assert.equal(normalizePlus('/a/dev/%2bsimple/'), '/a/dev/+simple/');
  assert.equal(normalizePlus('/a/dev/+simple/c%2B%2B/'), '/a/dev/+simple/c%2B%2B/', 'only a segment\'s leading +');
});

test('canonical simple URLs: trailing slash and normalised project names redirect', () => {
  assert.equal(canonicalRedirect({ user: 'a', index: 'i', slash: false }), '+simple/');
  assert.equal(canonicalRedirect({ user: 'a', index: 'i', slash: true }), undefined);
  assert.equal(canonicalRedirect({ user: 'a', index: 'i', project: 'my-pkg', slash: true }), undefined);
  assert.equal(canonicalRedirect({ user: 'a', index: 'i', project: 'my-pkg', slash: false }), 'my-pkg/');
  assert.equal(canonicalRedirect({ user: 'a', index: 'i', project: 'My_Pkg', slash: true }), '../my-pkg/');
});
