/**
 * Read-restricted indexes on a real master (issue 15): every read of an index whose `acl_read`
 * does not let anonymous through — simple pages (HTML, PEP 691 JSON, the project list), release
 * files and `.metadata`, JSON views, `+explain`, web pages — answers 401 with `WWW-Authenticate`
 * without credentials, 403 for a user not listed, 401 saying why for refused credentials; the
 * listed user reads, with `Cache-Control: private`; an open index inheriting it does not leak it;
 * search hides it; push from it takes its read right.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basicAuth, devpiAuth, makeWheel, startMaster, uploadForm, userWithIndex, type TestMaster } from './master-app.test-helpers.js';

let m: TestMaster;
let alice: Record<string, string>;
const bob = basicAuth('bob', 'bob-pw');
const carol = basicAuth('carol', 'carol-pw');
const wheel = makeWheel('secret-pkg', '1.0');
let fileUrl = '';

before(async () => {
  m = await startMaster();
  alice = await userWithIndex(m, 'alice', 'private', { acl_read: ['bob'] });
  for (const u of ['bob', 'carol']) {
    const put = await fetch(`${m.url}/${u}`, { method: 'PUT', body: JSON.stringify({ password: `${u}-pw` }) });
    assert.equal(put.status, 201);
  }
  const up = await fetch(`${m.url}/alice/private/`, { method: 'POST', headers: alice, body: uploadForm('secret-pkg', '1.0', wheel.filename, wheel.bytes) });
  assert.equal(up.status, 200, await up.text());
  for (const [name, cfg] of [['heir', { bases: ['alice/private'] }], ['open', {}]] as const) {
    const r = await fetch(`${m.url}/alice/${name}`, { method: 'PUT', headers: alice, body: JSON.stringify(cfg) });
    assert.equal(r.status, 200);
  }
  const page = await fetch(`${m.url}/alice/private/+simple/secret-pkg/`, { headers: { ...bob, accept: 'application/vnd.pypi.simple.v1+json' } });
  const json = (await page.json()) as { files: Array<{ url: string }> };
  fileUrl = new URL(json.files[0]!.url, `${m.url}/alice/private/+simple/secret-pkg/`).pathname;
});

after(async () => {
  await m.close();
});

/** Every read URL of the private index (and of what inherits it). */
const readUrls = (): Array<[string, Record<string, string>?]> => [
  ['/alice/private/+simple/'],
  ['/alice/private/+simple/secret-pkg/'],
  ['/alice/private/+simple/secret-pkg/', { accept: 'application/vnd.pypi.simple.v1+json' }],
  ['/alice/private/+simple/Secret_Pkg'],
  [fileUrl],
  [`${fileUrl}.metadata`],
  [fileUrl.replace('/+f/', '/%2Bf/')],
  [fileUrl, { accept: 'application/json' }],
  ['/alice/private', { accept: 'application/json' }],
  ['/alice/private/', { accept: 'application/vnd.pypi.simple.v1+json' }],
  ['/alice/private/secret-pkg', { accept: 'application/json' }],
  ['/alice/private/secret-pkg/1.0', { accept: 'application/json' }],
  ['/alice/private/+explain/secret-pkg', { accept: 'application/json' }],
  ['/alice/private/+api', { accept: 'application/json' }],
  ['/alice/private', { accept: 'text/html' }],
  ['/alice/private/secret-pkg/1.0', { accept: 'text/html' }],
  ['/alice/%70rivate/+simple/'],
  ['/alice/heir/+simple/secret-pkg/'],
  ['/alice/heir/+simple/'],
  ['/alice/heir/secret-pkg', { accept: 'application/json' }],
];

describe('read-restricted index', () => {
  test('anonymous: 401 with WWW-Authenticate and a message on every read of it and of its heirs', async () => {
    for (const [url, headers] of readUrls()) {
      for (const method of ['GET', 'HEAD']) {
        const r = await fetch(m.url + url, { method, headers: headers ?? {} });
        assert.equal(r.status, 401, `${method} ${url}`);
        assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm="/, url);
        if (method === 'GET') assert.match(((await r.json()) as { message: string }).message, /read-restricted/, url);
      }
    }
  });

  test('the listed user, the owner and root read, and the answers are Cache-Control: private', async () => {
    const root = basicAuth('root', 'rootpw');
    for (const who of [bob, alice, root]) {
      for (const [url, headers] of readUrls()) {
        const r = await fetch(m.url + url, { headers: { ...(headers ?? {}), ...who }, redirect: 'manual' });
        assert.ok(r.status === 200 || r.status === 302, `${url}: ${r.status}`);
        await r.arrayBuffer();
        if (r.status === 200) assert.match(r.headers.get('cache-control') ?? '', /^private/, url);
      }
    }
    const file = await fetch(m.url + fileUrl, { headers: bob });
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), wheel.bytes);
  });

  test('a user not listed: 403 saying why; refused credentials: 401 saying why', async () => {
    const r = await fetch(`${m.url}/alice/private/+simple/secret-pkg/`, { headers: carol });
    assert.equal(r.status, 403);
    assert.match(((await r.json()) as { message: string }).message, /user carol may not read index 'alice\/private'/);
    const heir = await fetch(`${m.url}/alice/heir/+simple/secret-pkg/`, { headers: carol });
    assert.equal(heir.status, 403);
    assert.match(((await heir.json()) as { message: string }).message, /inherits 'alice\/private'/);
    const wrong = await fetch(`${m.url}/alice/private/+simple/`, { headers: basicAuth('bob', 'nope') });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate') ?? '', /^Basic/);
    assert.match(((await wrong.json()) as { message: string }).message, /wrong password for user bob/);
    const unknown = await fetch(`${m.url}/alice/private/+simple/`, { headers: basicAuth('mallory', 'x') });
    assert.equal(unknown.status, 401);
  });

  test('no URL spelling gets around the gate (doubled slashes, dot segments, encodings, query strings)', async () => {
    for (const url of ['//alice/private/+simple/', '/alice//private/+simple/', '/alice/./private/+simple/', '/alice/private/./+simple/secret-pkg/',
      '/alice/private/+simple/secret-pkg/?x=1', '/%61lice/private/+simple/', '/alice/privat%65/+simple/secret-pkg/', `/alice/private/%2Bf/${fileUrl.split('/+f/')[1]!}`,
      '/alice/private/+simple/secret-pkg', '/alice/private/+simple', '/alice/private/secret-pkg/1.0/+doc/index.html', '/alice/private/%zz/x']) {
      const r = await fetch(m.url + url, { redirect: 'manual' });
      assert.ok(r.status >= 300, `${url} answered ${r.status}`);
      const text = await r.text();
      assert.doesNotMatch(text, /secret-pkg-1\.0|secret_pkg-1\.0/, `${url} leaked: ${text.slice(0, 200)}`);
    }
  });

  test('an open index stays open: no auth work, no private marking, even with wrong credentials', async () => {
    const r = await fetch(`${m.url}/alice/open/+simple/`, { headers: basicAuth('bob', 'nope') });
    assert.equal(r.status, 200);
    assert.doesNotMatch(r.headers.get('cache-control') ?? '', /private/);
    const root = await fetch(`${m.url}/alice/open`, { headers: { accept: 'application/json' } });
    // the default (everyone) is neither stored nor shown, as devpi shows no such key
    assert.equal(((await root.json()) as { result: { acl_read?: string[] } }).result.acl_read, undefined);
  });

  test('search lists the private index only to its readers', async () => {
    const hits = async (headers: Record<string, string>): Promise<string[]> => {
      const r = await fetch(`${m.url}/+search?query=secret-pkg`, { headers: { accept: 'application/json', ...headers } });
      const body = (await r.json()) as { result: { hits: Array<{ stage: string }> } };
      return body.result.hits.map((h) => h.stage);
    };
    // the search index builds in the background
    let seen: string[] = [];
    for (let i = 0; i < 100 && !seen.includes('alice/private'); i++) {
      seen = await hits(bob);
      if (!seen.includes('alice/private')) await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(seen, ['alice/private']);
    assert.deepEqual(await hits({}), []);
    assert.deepEqual(await hits(carol), []);
  });

  test('push from the private index takes its read right (carol may upload to her index, not read the source)', async () => {
    const ix = await fetch(`${m.url}/carol/dump`, { method: 'PUT', headers: devpiAuth('carol', 'carol-pw'), body: '{}' });
    assert.equal(ix.status, 200);
    const body = JSON.stringify({ name: 'secret-pkg', version: '1.0', targetindex: 'carol/dump' });
    const r = await fetch(`${m.url}/alice/private`, { method: 'POST', headers: { ...devpiAuth('carol', 'carol-pw'), 'content-type': 'application/json' }, body });
    assert.equal(r.status, 403, await r.text());
  });

  test('refresh of a project page (devpi refresh) takes the read right too', async () => {
    const anon = await fetch(`${m.url}/alice/heir/+simple/secret-pkg/refresh`, { method: 'POST', redirect: 'manual' });
    assert.equal(anon.status, 401);
    const reader = await fetch(`${m.url}/alice/heir/+simple/secret-pkg/refresh`, { method: 'POST', headers: bob, redirect: 'manual' });
    assert.equal(reader.status, 302);
  });

  test('PATCH list form makes the index open again; readers then need nothing', async () => {
    const r = await fetch(`${m.url}/alice/private`, { method: 'PATCH', headers: { ...alice, 'content-type': 'application/json' }, body: JSON.stringify(['acl_read=:ANONYMOUS:']) });
    assert.equal(r.status, 200, await r.text());
    const page = await fetch(`${m.url}/alice/heir/+simple/secret-pkg/`);
    assert.equal(page.status, 200);
    const back = await fetch(`${m.url}/alice/private`, { method: 'PATCH', headers: { ...alice, 'content-type': 'application/json' }, body: JSON.stringify({ acl_read: ['bob'] }) });
    assert.equal(back.status, 200);
    assert.equal((await fetch(`${m.url}/alice/heir/+simple/secret-pkg/`)).status, 401);
  });
});
