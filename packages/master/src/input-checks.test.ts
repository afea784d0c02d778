// Bad input over HTTP against a real master: each answer is a 4xx with a JSON message naming what
// is wrong (field and limit), and the serial does not move.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { multipartBody } from '@wheelhouse/testing';
import { makeWheel, makeZip, startMaster, uploadForm, userWithIndex, type TestMaster } from './master-app.test-helpers.js';
import { putUser } from './user-routes.js';

let m: TestMaster;
let auth: Record<string, string>;
before(async () => {
  m = await startMaster();
  auth = await userWithIndex(m, 'ina', 'dev');
  const w = makeWheel('okpkg', '1.0');
  const up = await fetch(`${m.url}/ina/dev/`, { method: 'POST', headers: auth, body: uploadForm('okpkg', '1.0', w.filename, w.bytes) });
  assert.equal(up.status, 200, await up.text());
});
after(() => m.close());

const serial = async (): Promise<number> => Number((await fetch(`${m.url}/+api`, { headers: { Accept: 'application/json' } })).headers.get('x-devpi-serial'));

/** Sends, expects `status` with a JSON message matching `message`, and an unchanged serial. */
async function refused(path: string, init: RequestInit, status: number, message: RegExp): Promise<void> {
  const before = await serial();
  const res = await fetch(`${m.url}${path}`, { ...init, headers: { Accept: 'application/json', ...(init.headers as Record<string, string> | undefined) } });
  const text = await res.text();
  assert.equal(res.status, status, text.slice(0, 300));
  assert.match((JSON.parse(text) as { message: string }).message, message);
  assert.equal(await serial(), before, 'the serial moved');
}

const upload = (name: string, version: string, filename: string, bytes: Buffer, extra: Record<string, string> = {}): RequestInit => ({
  method: 'POST', headers: auth, body: uploadForm(name, version, filename, bytes, extra),
});

test('bad percent-encoding in a path is 400, not a URIError 500', async () => {
  await refused('/ina/dev/+simple/%zz/', {}, 400, /invalid percent-encoding/);
  await refused('/ina/dev/%zz', {}, 400, /invalid percent-encoding/);
  await refused('/%E0%A4%A', { method: 'PUT', body: '{}' }, 400, /invalid percent-encoding/);
});

test('a test result nested 5,000 deep is 400; one over 1 MiB is 413; the JSON body limit names itself', async () => {
  const links = (await (await fetch(`${m.url}/ina/dev/okpkg/1.0`, { headers: { Accept: 'application/json' } })).json()) as { result: { '+links': Array<{ href: string }> } };
  const fileUrl = new URL(links.result['+links'][0]!.href).pathname;
  await refused(fileUrl, { method: 'POST', headers: auth, body: '['.repeat(5000) + ']'.repeat(5000) }, 400, /nests deeper than 64 levels/);
  await refused(fileUrl, { method: 'POST', headers: auth, body: JSON.stringify({ log: 'x'.repeat(1024 * 1024 + 10) }) }, 413, /"test result" is \d+ bytes; the limit is 1048576 bytes/);
  await refused(fileUrl, { method: 'POST', headers: auth, body: JSON.stringify({ log: 'x'.repeat(3 * 1024 * 1024) }) }, 413, /larger than 2097152 bytes/);
});

test('upload checks: PEP 440, lengths, wheel METADATA agreement, description size, doc zip, form field count', async () => {
  const w = makeWheel('okpkg', '1.0');
  await refused('/ina/dev/', upload('okpkg', '1.0$$beta!', 'okpkg-1.0$$beta!.tar.gz', Buffer.from('x')), 400, /PEP 440/);
  await refused('/ina/dev/', upload('okpkg', '1'.repeat(10_000), `okpkg-${'1'.repeat(10_000)}.tar.gz`, Buffer.from('x')), 400, /"version" is 10000 characters long; the limit is 64/);
  await refused('/ina/dev/', upload('a'.repeat(10_000), '1.0', `${'a'.repeat(10_000)}-1.0.tar.gz`, Buffer.from('x')), 400, /"name" is 10000 characters long; the limit is 128/);
  // the wheel says 1.0 inside, the form and file name say 2.0
  await refused('/ina/dev/', upload('okpkg', '2.0', 'okpkg-2.0-py3-none-any.whl', w.bytes), 400, /METADATA Version '1\.0' is not the version '2\.0'/);
  const other = makeWheel('otherpkg', '1.0');
  await refused('/ina/dev/', upload('okpkg', '1.0', 'okpkg-1.0-py3-none-any.whl', other.bytes), 400, /dist-info directory 'otherpkg-1\.0\.dist-info' is not for project 'okpkg'/);
  await refused('/ina/dev/', upload('okpkg', '1.1', 'okpkg-1.1.tar.gz', Buffer.from('x'), { description: 'd'.repeat(5 * 1024 * 1024) }), 413, /"description" is larger than 1048576 bytes/);
  await refused('/ina/dev/', upload('okpkg', '1.1', 'okpkg-1.1.tar.gz', Buffer.from('x'), { summary: 's'.repeat(600) }), 400, /"summary" is 600 characters long; the limit is 512/);
  const doc = (content: Buffer): RequestInit => {
    const { contentType, body } = multipartBody([[':action', 'doc_upload'], ['name', 'okpkg'], ['version', '1.0']], { filename: 'okpkg-1.0.doc.zip', content });
    return { method: 'POST', headers: auth, body: new Blob([body], { type: contentType }) };
  };
  await refused('/ina/dev/', doc(Buffer.from('not a zip at all')), 400, /not a readable zip archive/);
  const many: Record<string, string> = {};
  for (let i = 0; i < 600; i++) many[`f${i}`] = 'v';
  await refused('/ina/dev/', upload('okpkg', '1.1', 'okpkg-1.1.tar.gz', Buffer.from('x'), many), 413, /more than 500 fields/);
  const submit = multipartBody([[':action', 'submit'], ['name', 'okpkg'], ['version', '1$']], { filename: 'x', content: Buffer.alloc(0) });
  await refused('/ina/dev/', { method: 'POST', headers: auth, body: new Blob([submit.body], { type: submit.contentType }) }, 400, /PEP 440/);
  // a readable doc zip is still accepted
  const ok = await fetch(`${m.url}/ina/dev/`, doc(makeZip({ 'index.html': '<p>hi</p>' })));
  assert.equal(ok.status, 200, await ok.text());
});

test('user and index fields are bounded; GET / leaves large fields out', async () => {
  await refused('/eve', { method: 'PUT', body: JSON.stringify({ password: 'p', description: 'd'.repeat(9 * 1024 * 1024) }) }, 413, /JSON body is larger than 2097152 bytes/);
  await refused('/eve', { method: 'PUT', body: JSON.stringify({ password: 'p', description: 'd'.repeat(100_000) }) }, 400, /\/description must NOT have more than 65536 characters/);
  await refused('/ina/dev', { method: 'PATCH', headers: auth, body: JSON.stringify({ description: 'd'.repeat(100_000) }) }, 400, /"description" is 100000 characters long; the limit is 65536/);
  const patched = await fetch(`${m.url}/ina`, { method: 'PATCH', headers: auth, body: JSON.stringify({ description: 'long profile', custom_data: { k: 1 } }) });
  assert.equal(patched.status, 200);
  const list = (await (await fetch(`${m.url}/`, { headers: { Accept: 'application/json' } })).json()) as { result: Record<string, Record<string, unknown>> };
  assert.equal(list.result['ina']!['description'], undefined);
  assert.equal(list.result['ina']!['custom_data'], undefined);
  assert.ok((list.result['ina']!['indexes'] as Record<string, unknown>)['dev'], 'the list still names the indexes');
  const one = (await (await fetch(`${m.url}/ina`, { headers: { Accept: 'application/json' } })).json()) as { result: Record<string, unknown> };
  assert.equal(one.result['description'], 'long profile');
});

test('a wrong password says so (401 with WWW-Authenticate); an unknown user does not', async () => {
  const wrong = { Authorization: `Basic ${Buffer.from('ina:nope').toString('base64')}` };
  const res = await fetch(`${m.url}/ina/dev/`, { method: 'POST', headers: wrong, body: uploadForm('okpkg', '1.2', 'okpkg-1.2.tar.gz', Buffer.from('x')) });
  assert.equal(res.status, 401);
  assert.equal(((await res.json()) as { message: string }).message, 'wrong password for user ina');
  assert.match(res.headers.get('www-authenticate') ?? '', /Basic/);
  const ghost = await fetch(`${m.url}/ina/dev/`, { method: 'POST', headers: { Authorization: `Basic ${Buffer.from('ghost:x').toString('base64')}` }, body: uploadForm('okpkg', '1.2', 'okpkg-1.2.tar.gz', Buffer.from('x')) });
  assert.equal(ghost.status, 401);
  assert.match(((await ghost.json()) as { message: string }).message, /authentication required/);
});

test('restrictUserCreation: anonymous 401, a user 403, root 201', async () => {
  const deps = { changelog: m.app.changelog, restrictUserCreation: true };
  await assert.rejects(putUser(deps, 'newbie', { password: 'p' }), (e: unknown) => (e as { code?: string }).code === 'EUNAUTHORIZED');
  await assert.rejects(putUser(deps, 'newbie', { password: 'p' }, 'ina'), (e: unknown) => (e as { code?: string }).code === 'EFORBIDDEN' && /only root/.test((e as Error).message));
  assert.equal((await putUser(deps, 'newbie', { password: 'p' }, 'root')).status, 201);
});

test('a multipart body cut before its closing boundary is 400 and the process lives (busboy errors the file stream)', async () => {
  const { contentType, body } = multipartBody([[':action', 'file_upload'], ['name', 'okpkg'], ['version', '3.0']], { filename: 'okpkg-3.0.tar.gz', content: Buffer.from('x'.repeat(1000)) });
  await refused('/ina/dev/', { method: 'POST', headers: auth, body: new Blob([body.subarray(0, body.length - 20)], { type: contentType }) }, 400, /Unexpected end of form/);
  assert.equal((await fetch(`${m.url}/+api`)).status, 200);
});
