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

/** The split-based router the indexOf one replaced (kept here as the reference it must agree with). */
function splitRoute(method: string, url: string, accept: string | undefined): unknown {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  const dec = (seg: string): string | undefined => {
    try {
      return seg.includes('%') ? decodeURIComponent(seg) : seg;
    } catch {
      return undefined;
    }
  };
  const q = url.indexOf('?');
  const segs = (q < 0 ? url : url.slice(0, q)).split('/');
  if (segs.length < 4 || segs[1] === '' || segs[1]!.startsWith('+') || segs[2] === '' || segs[2]!.startsWith('+')) return undefined;
  const user = dec(segs[1]!);
  const index = dec(segs[2]!);
  if (user === undefined || index === undefined) return undefined;
  if (segs[3] === '+simple') {
    if (segs.length === 4) return { kind: 'simple', user, index, slash: false };
    if (segs.length === 5 && segs[4] === '') return { kind: 'simple', user, index, slash: true };
    if (segs.length === 5 || (segs.length === 6 && segs[5] === '')) {
      const project = dec(segs[4]!);
      if (project === undefined || project === '') return undefined;
      return { kind: 'simple', user, index, project, slash: segs.length === 6 };
    }
    return undefined;
  }
  const fileSegs = segs[3] === '+f' ? 7 : segs[3] === '+e' ? 6 : 0;
  if (segs.length === fileSegs && (accept ?? '').indexOf('application/json') < 0) {
    const parts = segs.slice(4).map(dec);
    if (parts.some((p) => p === undefined || p === '' || p === '..' || p === '.')) return undefined;
    return { kind: 'file', user, index, entrypath: `${user}/${index}/${segs[3]}/${parts.join('/')}`, filename: parts[parts.length - 1]! };
  }
  return undefined;
}

test('the indexOf router agrees with the split one on every combination of segments tried', () => {
  const pieces = ['', 'a', '+x', 'my%20pkg', '%E0%A4%A', '..', '.', '%2e%2e', '+simple', '+f', '+e', 'demo-1.0.whl', 'c%2B%2B'];
  let tried = 0;
  const check = (url: string): void => {
    for (const accept of [undefined, 'application/json', 'text/html']) {
      assert.deepEqual(routeRead('GET', url, accept), splitRoute('GET', url, accept), `${url} (${accept})`);
      tried++;
    }
  };
  for (const u of ['a', '']) for (const i of ['dev', '+x', '%41']) for (const k of ['+simple', '+f', '+e', 'x']) {
    check(`/${u}/${i}/${k}`);
    for (const p of pieces) {
      check(`/${u}/${i}/${k}/${p}`);
      check(`/${u}/${i}/${k}/${p}?q=/x/y`);
      for (const r of pieces) {
        check(`/${u}/${i}/${k}/${p}/${r}`);
        for (const t of ['', 'f.whl', '%2e', 'x%20y.whl']) {
          check(`/${u}/${i}/${k}/${p}/${r}/${t}`);
          check(`/${u}/${i}/${k}/${p}/${r}/${t}/z`);
        }
      }
    }
  }
  assert.ok(tried > 10_000);
});

test('a request target that is not a path (absolute-form, *) is not routed', () => {
  assert.equal(routeRead('GET', 'http://h/a/dev/+simple/', undefined), undefined);
  assert.equal(routeRead('GET', '*', undefined), undefined);
});
