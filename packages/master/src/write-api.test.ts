import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  basicAuth,
  devpiAuth,
  makeWheel,
  sha256,
  startMaster,
  uploadForm,
  userWithIndex,
  type TestMaster,
} from './master-app.test-helpers.js';

let m: TestMaster;
before(async () => {
  m = await startMaster();
});
after(() => m.close());

const JSON_ACCEPT = { Accept: 'application/json' };

async function call(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${m.url}${path}`, {
    method,
    headers: { ...JSON_ACCEPT, ...(opts.headers ?? {}) },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers, json, text };
}

async function login(user: string, password: string): Promise<string> {
  const r = await call('POST', '/+login', { body: { user, password } });
  assert.equal(r.status, 200, r.text);
  return (r.json['result'] as { password: string }).password;
}

async function headSerial(): Promise<number> {
  const r = await fetch(`${m.url}/+api`, { headers: JSON_ACCEPT });
  await r.arrayBuffer();
  return Number(r.headers.get('x-devpi-serial'));
}

async function tmpFiles(): Promise<string[]> {
  try {
    return await readdir(join(m.datadir, 'files', 'tmp'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

describe('users', () => {
  test('PUT creates (201, no password hash shown), again 409, without password 400, unknown key 400', async () => {
    const r = await call('PUT', '/carol', { body: { password: 'pw', email: 'carol@example.org' } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json['type'], 'userconfig');
    const result = r.json['result'] as Record<string, unknown>;
    assert.equal(result['username'], 'carol');
    assert.equal(result['email'], 'carol@example.org');
    assert.match(String(result['created']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(result['indexes'], {});
    assert.ok(!r.text.includes('argon2'), 'never shows the hash');
    assert.ok(Number(r.headers.get('x-devpi-serial')) > 0);
    assert.equal((await call('PUT', '/carol', { body: { password: 'other' } })).status, 409);
    const nopw = await call('PUT', '/dave', { body: { email: 'x' } });
    assert.equal(nopw.status, 400);
    assert.match(String(nopw.json['message']), /password needs to be set/);
    const unknown = await call('PUT', '/dave', { body: { password: 'pw', shoe_size: 42 } });
    assert.equal(unknown.status, 400);
    assert.match(String(unknown.json['message']), /shoe_size/);
    assert.equal((await call('GET', '/dave')).status, 404);
    const get = await call('GET', '/carol');
    assert.equal(get.status, 200);
    assert.equal((get.json['result'] as Record<string, unknown>)['pwhash'], undefined);
  });

  test('login: 200 with a token that authenticates; wrong password, unknown user 401; missing keys 400', async () => {
    await call('PUT', '/erin', { body: { password: 'erin-pw' } });
    const r = await call('POST', '/+login', { body: { user: 'erin', password: 'erin-pw' } });
    assert.equal(r.status, 200);
    assert.equal(r.json['type'], 'proxyauth');
    assert.equal(r.json['message'], 'login successful');
    const { password: token, expiration } = r.json['result'] as { password: string; expiration: number };
    assert.equal(expiration, 36000);
    const api = await call('GET', '/+api', { headers: devpiAuth('erin', token) });
    assert.deepEqual((api.json['result'] as { authstatus: unknown }).authstatus, ['ok', 'erin', []]);
    const anon = await call('GET', '/+api');
    assert.deepEqual((anon.json['result'] as { authstatus: unknown }).authstatus, ['noauth', '', []]);
    const wrong = await call('POST', '/+login', { body: { user: 'erin', password: 'nope' } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json['message'], 'wrong password for user erin');
    const ghost = await call('POST', '/+login', { body: { user: 'ghost', password: 'x' } });
    assert.equal(ghost.status, 401);
    assert.match(String(ghost.json['message']), /could not be authenticated/);
    // a write with a wrong password says so, and keeps twine's WWW-Authenticate challenge
    const patched = await call('PATCH', '/erin', { body: { title: 't' }, headers: { Authorization: `Basic ${Buffer.from('erin:nope').toString('base64')}` } });
    assert.equal(patched.status, 401);
    assert.equal(patched.json['message'], 'wrong password for user erin');
    assert.match(String(patched.headers.get('www-authenticate')), /Basic/);
    const anonPatch = await call('PATCH', '/erin', { body: { title: 't' } });
    // anonymous (no credentials at all): devpi's 403 for changes to a user
    assert.equal(anonPatch.status, 403);
    assert.equal(anonPatch.json['message'], "anonymous may not modify user 'erin'");
    assert.equal((await call('POST', '/+login', { body: { user: 'erin' } })).status, 400);
    // root's password from init
    await login('root', 'rootpw');
  });

  test('PATCH: anonymous 403 (devpi; no WWW-Authenticate), another user 403, self and root 200; a new password replaces the old one', async () => {
    await call('PUT', '/frank', { body: { password: 'frank-pw' } });
    await call('PUT', '/grace', { body: { password: 'grace-pw' } });
    const anon = await call('PATCH', '/frank', { body: { email: 'f@example.org' } });
    assert.equal(anon.status, 403);
    assert.equal(anon.headers.get('www-authenticate'), null);
    assert.equal((await call('PATCH', '/frank', { body: { email: 'x' }, headers: devpiAuth('grace', 'grace-pw') })).status, 403);
    const self = await call('PATCH', '/frank', { body: { email: 'f@example.org' }, headers: basicAuth('frank', 'frank-pw') });
    assert.equal(self.status, 200, self.text);
    assert.equal(self.json['message'], 'user updated');
    const rootToken = await login('root', 'rootpw');
    assert.equal((await call('PATCH', '/frank', { body: { title: 'F' }, headers: devpiAuth('root', rootToken) })).status, 200);
    const user = (await call('GET', '/frank')).json['result'] as Record<string, unknown>;
    assert.equal(user['email'], 'f@example.org');
    assert.equal(user['title'], 'F');
    assert.ok(user['modified']);
    const pw = await call('PATCH', '/frank', { body: { password: 'new-pw' }, headers: devpiAuth('frank', 'frank-pw') });
    assert.equal(pw.status, 200);
    assert.equal(pw.json['type'], 'userpassword');
    assert.equal(pw.json['message'], 'user updated, new proxy auth');
    assert.equal((await call('POST', '/+login', { body: { user: 'frank', password: 'frank-pw' } })).status, 401);
    await login('frank', 'new-pw');
    const unknown = await call('PATCH', '/frank', { body: { shoe_size: 1 }, headers: devpiAuth('frank', 'new-pw') });
    assert.equal(unknown.status, 400);
  });

  test('PATCH {"password": ""} sets the empty password (devpi-init leaves root so), with a new proxy auth', async () => {
    await call('PUT', '/nina', { body: { password: 'nina-pw' } });
    const r = await call('PATCH', '/nina', { body: { password: '' }, headers: devpiAuth('nina', 'nina-pw') });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json['type'], 'userpassword');
    assert.equal((await call('POST', '/+login', { body: { user: 'nina', password: 'nina-pw' } })).status, 401, 'the old password no longer works');
    await login('nina', '');
  });

  test('DELETE: another user 403, self 200, then 404; root cannot be deleted; a user with a non-volatile index 403', async () => {
    await call('PUT', '/heidi', { body: { password: 'heidi-pw' } });
    await call('PUT', '/ivan', { body: { password: 'ivan-pw' } });
    assert.equal((await call('DELETE', '/heidi', { headers: devpiAuth('ivan', 'ivan-pw') })).status, 403);
    assert.equal((await call('DELETE', '/heidi')).status, 403, 'anonymous: 403 as devpi');
    const del = await call('DELETE', '/heidi', { headers: devpiAuth('heidi', 'heidi-pw') });
    assert.equal(del.status, 200, del.text);
    assert.equal(del.json['message'], "user 'heidi' deleted");
    assert.equal((await call('GET', '/heidi')).status, 404);
    const rootToken = await login('root', 'rootpw');
    assert.equal((await call('DELETE', '/heidi', { headers: devpiAuth('root', rootToken) })).status, 404);
    assert.equal((await call('DELETE', '/root', { headers: devpiAuth('root', rootToken) })).status, 403);
    await call('PUT', '/ivan/prod', { body: { volatile: false }, headers: devpiAuth('ivan', 'ivan-pw') });
    assert.equal((await call('DELETE', '/ivan', { headers: devpiAuth('ivan', 'ivan-pw') })).status, 403);
    assert.equal((await call('GET', '/ivan')).status, 200);
  });
});

describe('indexes', () => {
  test('PUT 200 with the config, 409 again, 403 anonymous (devpi) and in another namespace', async () => {
    await call('PUT', '/judy', { body: { password: 'judy-pw' } });
    await call('PUT', '/mallory', { body: { password: 'mallory-pw' } });
    const auth = devpiAuth('judy', 'judy-pw');
    const r = await call('PUT', '/judy/dev', { body: { title: 'Dev' }, headers: auth });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json['type'], 'indexconfig');
    assert.deepEqual((r.json['result'] as Record<string, unknown>)['acl_upload'], ['judy']);
    assert.equal((await call('PUT', '/judy/dev', { body: {}, headers: auth })).status, 409);
    assert.equal((await call('PUT', '/judy/other', { body: {} })).status, 403);
    assert.equal((await call('PATCH', '/judy/dev', { body: { title: 'x' } })).status, 403);
    assert.equal((await call('DELETE', '/judy/dev')).status, 403);
    assert.equal((await call('PUT', '/judy/other', { body: {}, headers: devpiAuth('mallory', 'mallory-pw') })).status, 403);
    const unknown = await call('PUT', '/judy/other', { body: { colour: 'red' }, headers: auth });
    assert.equal(unknown.status, 400);
    assert.match(String(unknown.json['message']), /colour/);
    const get = await call('GET', '/judy/dev');
    assert.equal(get.status, 200);
    assert.deepEqual((get.json['result'] as Record<string, unknown>)['projects'], []);
  });

  test('a missing or deleted user: PUT of an index and PATCH of the user answer 404 before any permission check (devpi)', async () => {
    await call('PUT', '/olga', { body: { password: 'olga-pw' } });
    const olga = devpiAuth('olga', 'olga-pw');
    const put = await call('PUT', '/ghost/dev', { body: {}, headers: olga });
    assert.equal(put.status, 404, put.text);
    assert.match(String(put.json['message']), /ghost/);
    assert.equal((await call('PUT', '/ghost/dev', { body: {} })).status, 404, 'anonymous too');
    assert.equal((await call('PATCH', '/ghost', { body: { email: 'x' }, headers: olga })).status, 404);
    // a user deleted while logged in: its token still names it, the index PUT says the user is gone
    const token = await login('olga', 'olga-pw');
    assert.equal((await call('DELETE', '/olga', { headers: olga })).status, 200);
    assert.equal((await call('PUT', '/olga/dev', { body: {}, headers: devpiAuth('olga', token) })).status, 404);
  });

  test('root/pypi as init leaves it holds exactly devpi-init\'s keys (mirror_cache_expiry implicit)', async () => {
    const r = await call('GET', '/root/pypi?no_projects=');
    assert.equal(r.status, 200, r.text);
    // no acl_read: the default (everyone) is neither stored nor shown (devpi pins these keys)
    assert.deepEqual(Object.keys(r.json['result'] as object).sort(), ['mirror_url', 'mirror_web_url_fmt', 'title', 'type', 'volatile']);
  });

  test('PATCH list form and object form over HTTP; bad ops 400', async () => {
    const auth = await userWithIndex(m, 'kim', 'dev');
    await call('PUT', '/kim/base', { body: {}, headers: auth });
    const list = await call('PATCH', '/kim/dev', { body: ['bases+=kim/base', 'acl_upload+=judy', 'volatile=False'], headers: auth });
    assert.equal(list.status, 200, list.text);
    const cfg = list.json['result'] as Record<string, unknown>;
    assert.deepEqual(cfg['bases'], ['kim/base']);
    assert.deepEqual(cfg['acl_upload'], ['kim', 'judy']);
    assert.equal(cfg['volatile'], false);
    const env = await call('PATCH', '/kim/dev', { body: { type: 'indexconfig', result: { title: 'T' } }, headers: auth });
    assert.equal(env.status, 200, env.text);
    assert.equal((env.json['result'] as Record<string, unknown>)['title'], 'T');
    const drop = await call('PATCH', '/kim/dev', { body: ['bases-='], headers: auth });
    assert.equal(drop.status, 400);
    assert.match(String(drop.json['message']), /Default values can't be removed/);
    const cycle = await call('PATCH', '/kim/base', { body: ['bases+=kim/dev'], headers: auth });
    assert.equal(cycle.status, 400);
    const noop = await call('PATCH', '/kim/dev?error_on_noop', { body: { title: 'T' }, headers: auth });
    assert.equal(noop.status, 400);
  });

  test('DELETE 201 for a volatile index, 403 for a non-volatile one, then 404', async () => {
    const auth = await userWithIndex(m, 'leo', 'tmp');
    await call('PUT', '/leo/prod', { body: { volatile: false }, headers: auth });
    const del = await call('DELETE', '/leo/tmp', { headers: auth });
    assert.equal(del.status, 201, del.text);
    assert.equal(del.json['message'], 'index leo/tmp deleted');
    assert.equal((await call('GET', '/leo/tmp')).status, 404);
    assert.equal((await call('DELETE', '/leo/tmp', { headers: auth })).status, 404);
    const prod = await call('DELETE', '/leo/prod', { headers: auth });
    assert.equal(prod.status, 403);
    assert.match(String(prod.json['message']), /non-volatile/);
  });
});

describe('uploads', () => {
  let auth: Record<string, string>;
  before(async () => {
    auth = await userWithIndex(m, 'uma', 'dev');
    await call('PUT', '/uma/prod', { body: { volatile: false }, headers: auth });
  });

  const upload = (stage: string, form: Blob, headers: Record<string, string> = auth) =>
    fetch(`${m.url}/${stage}/`, { method: 'POST', headers, body: form });

  test('a wheel uploaded as a multipart form is served at its link with the same bytes, .metadata, HEAD and ranges', async () => {
    const wheel = makeWheel('Wh_Demo.Mixed-Case', '0.1.0a1');
    const before = await headSerial();
    const res = await upload('uma/dev', uploadForm('Wh_Demo.Mixed-Case', '0.1.0a1', wheel.filename, wheel.bytes, { sha256_digest: sha256(wheel.bytes), summary: 'demo' }));
    assert.equal(res.status, 200, await res.text());
    assert.equal(Number(res.headers.get('x-devpi-serial')), before + 1);

    // the link, as the version JSON gives it
    const ver = await call('GET', '/uma/dev/wh-demo-mixed-case/0.1.0a1');
    assert.equal(ver.status, 200, ver.text);
    const result = ver.json['result'] as { summary: string; '+links': Array<{ href: string; rel: string; hashes: { sha256: string }; size: number }> };
    assert.equal(result.summary, 'demo');
    assert.equal(result['+links'].length, 1);
    const link = result['+links'][0]!;
    const digest = sha256(wheel.bytes);
    assert.equal(link.rel, 'releasefile');
    assert.equal(link.hashes.sha256, digest);
    assert.equal(link.size, wheel.bytes.length);
    assert.equal(new URL(link.href).pathname, `/uma/dev/+f/${digest.slice(0, 3)}/${digest.slice(3, 16)}/${wheel.filename}`);

    const get = await fetch(link.href);
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('etag'), `"${digest}"`);
    assert.equal(get.headers.get('content-length'), String(wheel.bytes.length));
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), wheel.bytes);

    const meta = await fetch(`${link.href}.metadata`);
    assert.equal(meta.status, 200);
    assert.deepEqual(Buffer.from(await meta.arrayBuffer()), wheel.metadata);

    const head = await fetch(link.href, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(wheel.bytes.length));
    assert.equal((await head.arrayBuffer()).byteLength, 0);

    const range = await fetch(link.href, { headers: { Range: 'bytes=4-13' } });
    assert.equal(range.status, 206);
    assert.equal(range.headers.get('content-range'), `bytes 4-13/${wheel.bytes.length}`);
    assert.deepEqual(Buffer.from(await range.arrayBuffer()), wheel.bytes.subarray(4, 14));
    const bad = await fetch(link.href, { headers: { Range: `bytes=${wheel.bytes.length}-` } });
    assert.equal(bad.status, 416);
    await bad.arrayBuffer();

    // the PEP 691 page lists it with its hash and core-metadata
    const page = await fetch(`${m.url}/uma/dev/+simple/wh-demo-mixed-case/`, { headers: { Accept: 'application/vnd.pypi.simple.v1+json' } });
    assert.equal(page.status, 200);
    const simple = (await page.json()) as { files: Array<{ filename: string; hashes: { sha256: string } }> };
    assert.deepEqual(simple.files.map((f) => [f.filename, f.hashes.sha256]), [[wheel.filename, digest]]);
  });

  test('a wrong sha256_digest → 400, no commit (serial unchanged), nothing left in files/tmp or the store', async () => {
    const wheel = makeWheel('badsum', '1.0');
    const before = await headSerial();
    const res = await upload('uma/dev', uploadForm('badsum', '1.0', wheel.filename, wheel.bytes, { sha256_digest: 'f'.repeat(64) }));
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { message: string }).message, /sha256_digest does not match/);
    assert.equal(await headSerial(), before);
    assert.deepEqual(await tmpFiles(), []);
    assert.equal(await m.app.files.has(sha256(wheel.bytes)), false);
    assert.equal((await call('GET', '/uma/dev/badsum')).status, 404);
  });

  test('a file name that does not match the project → 400 before the file is stored', async () => {
    const wheel = makeWheel('other', '1.0');
    const before = await headSerial();
    const res = await upload('uma/dev', uploadForm('mine', '1.0', wheel.filename, wheel.bytes));
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { message: string }).message, /does not match project name/);
    assert.equal(await headSerial(), before);
    assert.deepEqual(await tmpFiles(), []);
    assert.equal(await m.app.files.has(sha256(wheel.bytes)), false);
  });

  test('a wheel without METADATA for its project → 400, nothing stored', async () => {
    const wheel = makeWheel('nometa', '1.0');
    const before = await headSerial();
    const junk = Buffer.from('this is not a zip archive at all');
    const res = await upload('uma/dev', uploadForm('nometa', '1.0', wheel.filename, junk));
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { message: string }).message, /invalid wheel/);
    assert.equal(await headSerial(), before);
    assert.deepEqual(await tmpFiles(), []);
    assert.equal(await m.app.files.has(sha256(junk)), false);
  });

  test(':action=submit sent url-encoded (devpi-server pushing with --register-project) registers the version', async () => {
    const body = new URLSearchParams({ ':action': 'submit', name: 'Registered', version: '3.1', summary: 'via form' });
    const res = await fetch(`${m.url}/uma/dev/`, { method: 'POST', headers: auth, body });
    assert.equal(res.status, 200, await res.text());
    const got = await call('GET', '/uma/dev/registered/3.1');
    assert.equal(got.status, 200, got.text);
    assert.equal((got.json['result'] as Record<string, unknown>)['summary'], 'via form');
    const anon = await fetch(`${m.url}/uma/dev/`, { method: 'POST', body });
    assert.equal(anon.status, 401, 'anonymous: 401 as for any upload');
    await anon.arrayBuffer();
  });

  test('anonymous upload → 401 with WWW-Authenticate; a user not in acl_upload → 403', async () => {
    const wheel = makeWheel('anonpkg', '1.0');
    const anon = await upload('uma/dev', uploadForm('anonpkg', '1.0', wheel.filename, wheel.bytes), {});
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    await anon.arrayBuffer();
    await call('PUT', '/victor', { body: { password: 'victor-pw' } });
    const other = await upload('uma/dev', uploadForm('anonpkg', '1.0', wheel.filename, wheel.bytes), basicAuth('victor', 'victor-pw'));
    assert.equal(other.status, 403);
    await other.arrayBuffer();
    assert.equal((await call('GET', '/uma/dev/anonpkg')).status, 404);
    assert.deepEqual(await tmpFiles(), []);
  });

  test('non-volatile: identical re-upload 200, other content 409 with the message as reason phrase', async () => {
    const wheel = makeWheel('stable', '1.0');
    const first = await upload('uma/prod', uploadForm('stable', '1.0', wheel.filename, wheel.bytes));
    assert.equal(first.status, 200);
    const before = await headSerial();
    const again = await upload('uma/prod', uploadForm('stable', '1.0', wheel.filename, wheel.bytes));
    assert.equal(again.status, 200);
    assert.equal(await headSerial(), before, 'an identical upload commits nothing');
    const changed = makeWheel('stable', '1.0', ' changed');
    const conflict = await upload('uma/prod', uploadForm('stable', '1.0', changed.filename, changed.bytes));
    assert.equal(conflict.status, 409);
    assert.match(conflict.statusText, /already exists in non-volatile index/);
    await conflict.arrayBuffer();
    assert.equal(await headSerial(), before);
    assert.deepEqual(await tmpFiles(), []);
    const served = await fetch(`${m.url}/uma/prod/+simple/stable/`, { headers: { Accept: 'application/vnd.pypi.simple.v1+json' } });
    const page = (await served.json()) as { files: Array<{ hashes: { sha256: string } }> };
    assert.deepEqual(page.files.map((f) => f.hashes.sha256), [sha256(wheel.bytes)]);
  });

  test('deleting a file over HTTP: 403 in a non-volatile index without ?force, 200 with it', async () => {
    const wheel = makeWheel('gone', '1.0');
    assert.equal((await upload('uma/prod', uploadForm('gone', '1.0', wheel.filename, wheel.bytes))).status, 200);
    const d = sha256(wheel.bytes);
    const path = `/uma/prod/+f/${d.slice(0, 3)}/${d.slice(3, 16)}/${wheel.filename}`;
    assert.equal((await call('DELETE', path)).status, 403, 'anonymous: 403 as devpi');
    assert.equal((await call('DELETE', path, { headers: auth })).status, 403);
    assert.equal((await call('DELETE', `${path}?force`, { headers: auth })).status, 200);
    const get = await fetch(`${m.url}${path}`);
    assert.equal(get.status, 404);
    await get.arrayBuffer();
    assert.equal((await call('GET', '/uma/prod/gone')).status, 404);
  });
});
