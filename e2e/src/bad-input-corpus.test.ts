// A corpus of bad inputs (paths, percent-encoding, names, JSON, sizes, multipart, headers, methods)
// sent to the master, a replica and the proxy of a LoopbackCluster. Every one must get a 4xx with a
// JSON `message`, leave the serial where it was (no commit anywhere), and leave every process alive
// with bounded RSS. Then the memory amplification case of issue 11: users with the largest
// descriptions the limits allow, six concurrent `GET /` on a replica, RSS growth within a bound.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  LoopbackCluster, RssSampler, buildWheel, legacyUploadBody, multipartBody, waitFor, withClusterLogs,
  type WheelhouseProcess,
} from '@wheelhouse/testing';

const ROOT_PASSWORD = 'root-corpus-e2e';
const ALICE = { user: 'alice', password: 'alice-corpus-pw' } as const;
/** RSS growth (peak minus baseline) allowed per node while the corpus runs. */
const CORPUS_RSS_GROWTH_BOUND = 200 * 1024 * 1024;
/** RSS growth allowed on the replica for six concurrent `GET /` over 40 users with 60 KiB descriptions. */
const LIST_RSS_GROWTH_BOUND = 150 * 1024 * 1024;

let cluster: LoopbackCluster | undefined;
let keep = false;
const c = (): LoopbackCluster => {
  assert.ok(cluster, 'the cluster did not start (see the before hook)');
  return cluster;
};
const guarded = (fn: (t: TestContext) => Promise<void>) => withClusterLogs(() => cluster, () => (keep = true), fn);

const basic = (user: string, password: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const ALICE_AUTH = basic(ALICE.user, ALICE.password);
const WRONG_AUTH = basic(ALICE.user, 'not-her-password');

/** One bad request. `status`: the exact status expected (else any 4xx). */
interface BadInput {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  readonly status?: number;
  readonly message?: RegExp;
}

const form = (fields: Array<readonly [string, string]>, filename: string, content: Buffer): { headers: Record<string, string>; body: Buffer } => {
  const b = multipartBody(fields, { filename, content });
  return { headers: { 'Content-Type': b.contentType }, body: b.body };
};

const upload = (name: string, version: string, filename: string, content: Buffer, extra: Record<string, string> = {}, auth = ALICE_AUTH): Pick<BadInput, 'headers' | 'body'> => {
  const b = legacyUploadBody({ name, version, filename, content, extra });
  return { headers: { ...auth, 'Content-Type': b.contentType }, body: b.body };
};

const json = (v: unknown): string => JSON.stringify(v);
const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

/** Built once the cluster is up (the test result paths need the uploaded file's URL). */
function corpus(fileUrl: string): BadInput[] {
  const okWheel = buildWheel('okpkg', '1.0', { requiresPython: null });
  const otherWheel = buildWheel('otherpkg', '2.0', { requiresPython: null });
  const sdist = Buffer.from('not really an sdist');
  const many: Record<string, string> = {};
  for (let i = 0; i < 600; i++) many[`field${i}`] = 'v';
  const truncated = legacyUploadBody({ name: 'okpkg', version: '3.0', filename: 'okpkg-3.0.tar.gz', content: sdist });
  const A = { ...ALICE_AUTH, 'Content-Type': 'application/json' };
  return [
    // paths and percent-encoding
    { name: 'bad %-encoding in a simple page project', method: 'GET', path: '/alice/dev/+simple/%zz/', status: 400, message: /percent-encoding/ },
    { name: 'bad %-encoding, simple page without slash', method: 'GET', path: '/alice/dev/+simple/%zz', status: 400 },
    { name: 'bad %-encoding in the index segment', method: 'GET', path: '/alice/%zz/+simple/', status: 400 },
    { name: 'bad %-encoding in the user segment', method: 'GET', path: '/%zz/dev/', status: 400 },
    { name: 'bad %-encoding as the user', method: 'GET', path: '/%zz', status: 400 },
    { name: 'bad %-encoding in a project JSON path', method: 'GET', path: '/alice/dev/%zz/1.0', status: 400 },
    { name: 'truncated UTF-8 %-sequence in a project', method: 'GET', path: '/alice/dev/okpkg%E0%A4%A', status: 400 },
    { name: 'bad %-encoding in a release file path', method: 'GET', path: '/alice/dev/+f/%zz/abc/okpkg-1.0.tar.gz' },
    { name: 'encoded dot segments in a file path', method: 'GET', path: '/alice/dev/+f/%2e%2e/%2e%2e/secret.whl' },
    { name: 'unknown project simple page', method: 'GET', path: '/alice/dev/+simple/no-such-project/', headers: { Accept: 'application/vnd.pypi.simple.v1+json' }, status: 404 },
    { name: 'simple page asking for JSON only (PEP 691 has no application/json)', method: 'GET', path: '/alice/dev/+simple/okpkg/', headers: { Accept: 'application/json' }, status: 406 },
    { name: 'unknown user', method: 'GET', path: '/no-such-user', status: 404 },
    { name: 'unknown index', method: 'GET', path: '/alice/no-such-index', status: 404 },
    { name: 'unknown release file', method: 'GET', path: '/alice/dev/+f/abc/def0123456789/okpkg-9.9.tar.gz', status: 404 },
    { name: 'bad %-encoding on a write', method: 'PUT', path: '/%E0%A4%A', headers: A, body: '{}', status: 400 },
    // names
    { name: 'user name with a space', method: 'PUT', path: '/a%20b', headers: { 'Content-Type': 'application/json' }, body: json({ password: 'x' }) },
    { name: 'user name of 300 characters', method: 'PUT', path: `/${'u'.repeat(300)}`, body: json({ password: 'x' }) },
    { name: 'index name with !', method: 'PUT', path: '/alice/bad%21name', headers: A, body: '{}' },
    { name: 'a base that does not exist', method: 'PUT', path: '/alice/dev2', headers: A, body: json({ bases: ['nobody/nothing'] }), status: 400 },
    { name: 'index type that does not exist', method: 'PUT', path: '/alice/dev2', headers: A, body: json({ type: 'weird' }), status: 400 },
    { name: 'mirror_url that is not http', method: 'PUT', path: '/alice/mir', headers: A, body: json({ type: 'mirror', mirror_url: 'ftp://x/' }), status: 400 },
    // JSON bodies
    { name: 'malformed JSON on PUT /user', method: 'PUT', path: '/bob', body: '{"password": ', status: 400 },
    { name: 'JSON nested 5,000 deep on PUT /user', method: 'PUT', path: '/bob', body: nested(5000), status: 400, message: /nests deeper than 64/ },
    { name: 'JSON null as a user config', method: 'PUT', path: '/bob', body: 'null', status: 400 },
    { name: 'JSON string as a user config', method: 'PUT', path: '/bob', body: '"bob"', status: 400 },
    { name: 'unknown key in a user config', method: 'PUT', path: '/bob', body: json({ password: 'x', colour: 'blue' }), status: 400 },
    { name: 'password that is a number', method: 'PUT', path: '/bob', body: json({ password: 42 }), status: 400 },
    { name: 'user without a password', method: 'PUT', path: '/bob', body: json({ email: 'b@example.org' }), status: 400 },
    { name: 'user description of 100,000 characters', method: 'PUT', path: '/bob', body: json({ password: 'x', description: 'd'.repeat(100_000) }), status: 400, message: /description must NOT have more than 65536 characters/ },
    { name: 'user description of 9 MB', method: 'PUT', path: '/bob', body: json({ password: 'x', description: 'd'.repeat(9 * 1024 * 1024) }), status: 413, message: /larger than 2097152 bytes/ },
    { name: 'user custom_data of 70 KB', method: 'PUT', path: '/bob', body: json({ password: 'x', custom_data: { k: 'v'.repeat(70_000) } }), status: 413, message: /custom_data.*65536/ },
    { name: 'user title of 300 characters', method: 'PUT', path: '/bob', body: json({ password: 'x', title: 't'.repeat(300) }), status: 400 },
    { name: 'password of 2,000 characters', method: 'PUT', path: '/bob', body: json({ password: 'p'.repeat(2000) }), status: 400 },
    { name: 'index description of 100,000 characters', method: 'PATCH', path: '/alice/dev', headers: A, body: json({ description: 'd'.repeat(100_000) }), status: 400, message: /"description" is 100000 characters long; the limit is 65536/ },
    { name: 'index acl_upload of 1,001 entries', method: 'PATCH', path: '/alice/dev', headers: A, body: json({ acl_upload: Array.from({ length: 1001 }, (_, i) => `u${i}`) }), status: 400 },
    { name: 'index PATCH list form with a bad op', method: 'PATCH', path: '/alice/dev', headers: A, body: json(['nonsense']), status: 400 },
    { name: 'index volatile that is not a boolean', method: 'PATCH', path: '/alice/dev', headers: A, body: json({ volatile: 'perhaps' }), status: 400 },
    { name: 'login with malformed JSON', method: 'POST', path: '/+login', body: '{"user": "alice", ', status: 400 },
    { name: 'login without a password', method: 'POST', path: '/+login', body: json({ user: 'alice' }), status: 400 },
    { name: 'login with a wrong password', method: 'POST', path: '/+login', body: json({ user: 'alice', password: 'nope' }), status: 401, message: /^wrong password for user alice$/ },
    { name: 'test result nested 5,000 deep', method: 'POST', path: fileUrl, headers: A, body: nested(5000), status: 400, message: /nests deeper/ },
    { name: 'test result of 1.1 MB', method: 'POST', path: fileUrl, headers: A, body: json({ log: 'x'.repeat(1100 * 1024) }), status: 413, message: /"test result" is \d+ bytes; the limit is 1048576 bytes/ },
    { name: 'JSON body of 3 MB', method: 'POST', path: fileUrl, headers: A, body: json({ log: 'x'.repeat(3 * 1024 * 1024) }), status: 413 },
    { name: 'test result for an unknown file', method: 'POST', path: '/alice/dev/+f/abc/def0123456789/nothing-1.0.tar.gz', headers: A, body: json({}), status: 404 },
    { name: 'test result that is not JSON', method: 'POST', path: fileUrl, headers: A, body: '<xml/>', status: 400 },
    // uploads (multipart)
    { name: 'version 1.0$$beta!', method: 'POST', path: '/alice/dev/', ...upload('okpkg', '1.0$$beta!', 'okpkg-1.0$$beta!.tar.gz', sdist), status: 400, message: /PEP 440/ },
    { name: 'version of 10,000 characters', method: 'POST', path: '/alice/dev/', ...upload('okpkg', '1'.repeat(10_000), `okpkg-${'1'.repeat(10_000)}.tar.gz`, sdist), status: 400, message: /"version" is 10000 characters long/ },
    { name: 'name of 10,000 characters', method: 'POST', path: '/alice/dev/', ...upload('a'.repeat(10_000), '1.0', `${'a'.repeat(10_000)}-1.0.tar.gz`, sdist), status: 400, message: /"name" is 10000 characters long/ },
    { name: 'wheel whose METADATA Version disagrees', method: 'POST', path: '/alice/dev/', ...upload('okpkg', '2.0', 'okpkg-2.0-py3-none-any.whl', okWheel.content), status: 400, message: /METADATA Version '1\.0'/ },
    { name: 'wheel of another project', method: 'POST', path: '/alice/dev/', ...upload('okpkg', '2.0', 'okpkg-2.0-py3-none-any.whl', otherWheel.content), status: 400, message: /otherpkg-2\.0\.dist-info/ },
    { name: 'wheel that is not a zip', method: 'POST', path: '/alice/dev/', ...upload('okpkg', '2.0', 'okpkg-2.0-py3-none-any.whl', sdist), status: 400 },
    { name: 'description of 5 MB', method: 'POST', path: '/alice/dev/', ...upload('okpkg', '2.0', 'okpkg-2.0.tar.gz', sdist, { description: 'd'.repeat(5 * 1024 * 1024) }), status: 413, message: /"description" is larger than 1048576 bytes/ },
    { name: 'summary of 600 characters', method: 'POST', path: '/alice/dev/', ...(() => { const b = legacyUploadBody({ name: 'okpkg', version: '2.0', filename: 'okpkg-2.0.tar.gz', content: sdist, summary: 's'.repeat(600) }); return { headers: { ...ALICE_AUTH, 'Content-Type': b.contentType }, body: b.body }; })(), status: 400, message: /"summary" is 600 characters long; the limit is 512/ },
    { name: '600 form fields', method: 'POST', path: '/alice/dev/', ...upload('okpkg', '2.0', 'okpkg-2.0.tar.gz', sdist, many), status: 413, message: /more than 500 fields/ },
    { name: 'doc upload that is not a zip', method: 'POST', path: '/alice/dev/', ...(() => { const f = form([[':action', 'doc_upload'], ['name', 'okpkg'], ['version', '1.0']], 'okpkg-1.0.doc.zip', sdist); return { headers: { ...ALICE_AUTH, ...f.headers }, body: f.body }; })(), status: 400, message: /not a readable zip/ },
    { name: 'form without :action', method: 'POST', path: '/alice/dev/', ...(() => { const f = form([['name', 'okpkg'], ['version', '2.0']], 'okpkg-2.0.tar.gz', sdist); return { headers: { ...ALICE_AUTH, ...f.headers }, body: f.body }; })(), status: 400 },
    { name: 'form with an unknown :action', method: 'POST', path: '/alice/dev/', ...(() => { const f = form([[':action', 'explode'], ['name', 'okpkg']], 'okpkg-2.0.tar.gz', sdist); return { headers: { ...ALICE_AUTH, ...f.headers }, body: f.body }; })(), status: 400 },
    { name: 'file_upload without a content file', method: 'POST', path: '/alice/dev/', ...(() => { const f = form([[':action', 'file_upload'], ['name', 'okpkg'], ['version', '2.0']], 'x', Buffer.alloc(0)); return { headers: { ...ALICE_AUTH, 'Content-Type': f.headers['Content-Type']! }, body: Buffer.from(f.body.toString('latin1').replace('name="content"', 'name="notcontent"'), 'latin1') }; })(), status: 400 },
    { name: 'multipart without a boundary', method: 'POST', path: '/alice/dev/', headers: { ...ALICE_AUTH, 'Content-Type': 'multipart/form-data' }, body: 'garbage', status: 400 },
    { name: 'multipart cut before its closing boundary', method: 'POST', path: '/alice/dev/', headers: { ...ALICE_AUTH, 'Content-Type': truncated.contentType }, body: truncated.body.subarray(0, truncated.body.length - 20), status: 400 },
    { name: 'file name with ../', method: 'POST', path: '/alice/dev/', ...upload('okpkg', '2.0', '../../okpkg-2.0.tar.gz', sdist), status: 400 },
    { name: 'sha256_digest that does not match', method: 'POST', path: '/alice/dev/', ...(() => { const b = legacyUploadBody({ name: 'okpkg', version: '2.0', filename: 'okpkg-2.0.tar.gz', content: sdist, sha256Digest: '0'.repeat(64) }); return { headers: { ...ALICE_AUTH, 'Content-Type': b.contentType }, body: b.body }; })(), status: 400 },
    { name: 'file extension .txt', method: 'POST', path: '/alice/dev/', ...upload('okpkg', '2.0', 'okpkg-2.0.txt', sdist), status: 400 },
    { name: 'upload with a wrong password', method: 'POST', path: '/alice/dev/', ...upload('okpkg', '2.0', 'okpkg-2.0.tar.gz', sdist, {}, WRONG_AUTH), status: 401, message: /^wrong password for user alice$/ },
    { name: 'anonymous upload', method: 'POST', path: '/alice/dev/', ...upload('okpkg', '2.0', 'okpkg-2.0.tar.gz', sdist, {}, {}), status: 401 },
    { name: 'upload to an unknown index', method: 'POST', path: '/alice/nothing/', ...upload('okpkg', '2.0', 'okpkg-2.0.tar.gz', sdist), status: 404 },
    { name: 'upload whose file name belongs to another project', method: 'POST', path: '/alice/dev/', ...upload('okpkg', '2.0', 'other-2.0.tar.gz', sdist), status: 400 },
    // headers
    { name: 'Authorization that is not base64', method: 'PATCH', path: '/alice/dev', headers: { Authorization: 'Basic !!!***', 'Content-Type': 'application/json' }, body: json({ title: 'x' }), status: 403 },
    { name: 'X-Devpi-Auth garbage', method: 'PATCH', path: '/alice/dev', headers: { 'X-Devpi-Auth': 'garbage', 'Content-Type': 'application/json' }, body: json({ title: 'x' }), status: 403 },
    { name: 'X-Devpi-Auth with a wrong password', method: 'PATCH', path: '/alice', headers: { 'X-Devpi-Auth': Buffer.from('alice:nope').toString('base64') }, body: json({ title: 'x' }), status: 401, message: /^wrong password for user alice$/ },
    { name: 'another user patching alice', method: 'PATCH', path: '/alice', headers: { ...basic('root', 'wrong-root-pw') }, body: json({ title: 'x' }), status: 401 },
    // methods
    { name: 'DELETE /', method: 'DELETE', path: '/' },
    { name: 'DELETE of an unknown user', method: 'DELETE', path: '/no-such-user', headers: ALICE_AUTH },
    { name: 'PATCH of an unknown index', method: 'PATCH', path: '/alice/no-such-index', headers: A, body: json({ title: 'x' }), status: 404 },
    { name: 'PUT on a simple page', method: 'PUT', path: '/alice/dev/+simple/', headers: A, body: '{}' },
    { name: 'PUSH with malformed JSON', method: 'PUSH', path: '/alice/dev', headers: A, body: '{"name": ', status: 400 },
    { name: 'push without a target', method: 'POST', path: '/alice/dev', headers: A, body: json({ name: 'okpkg', version: '1.0' }), status: 400 },
  ];
}

before(async () => {
  cluster = await LoopbackCluster.start({ label: 'bad-input-corpus', rootPassword: ROOT_PASSWORD });
  const m = cluster.master;
  const put = await m.api.put('/alice', { password: ALICE.password });
  assert.equal(put.status, 201, put.text);
  const ix = await m.api.as(ALICE).put('/alice/dev', { volatile: false });
  assert.equal(ix.status, 200, ix.text);
  const w = buildWheel('okpkg', '1.0', { requiresPython: null });
  const b = legacyUploadBody({ name: 'okpkg', version: '1.0', filename: w.filename, content: w.content });
  const up = await fetch(`${m.url}/alice/dev/`, { method: 'POST', headers: { ...ALICE_AUTH, 'Content-Type': b.contentType }, body: b.body });
  assert.equal(up.status, 200, await up.text());
  await converged();
}, { timeout: 180_000 });

after(async () => {
  await cluster?.stop(keep);
});

/** Waits until both replicas are at the master's serial; returns it. */
async function converged(): Promise<number> {
  const { master, replicaA, replicaB } = c();
  const serial = await master.api.statusSerial();
  await waitFor(async () => (await replicaA.api.statusSerial()) >= serial && (await replicaB.api.statusSerial()) >= serial, { timeoutMs: 60_000, what: `replicas at serial ${serial}` });
  return serial;
}

async function send(node: WheelhouseProcess, input: BadInput): Promise<{ status: number; text: string; contentType: string }> {
  const init: RequestInit = { method: input.method, headers: { Accept: 'application/json', ...input.headers }, redirect: 'manual', signal: AbortSignal.timeout(60_000) };
  if (input.body !== undefined) init.body = input.body;
  const res = await fetch(`${node.url}${input.path}`, init);
  return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type') ?? '' };
}

test('every bad input gets a 4xx with a JSON message from master, replica and proxy; nothing commits; all stay alive', { timeout: 900_000 }, guarded(async (t) => {
  const { master, replicaA, replicaB, proxy } = c();
  const version = (await (await fetch(`${master.url}/alice/dev/okpkg/1.0`, { headers: { Accept: 'application/json' } })).json()) as { result: { '+links': Array<{ href: string; rel: string }> } };
  const fileUrl = new URL(version.result['+links'].find((l) => l.rel === 'releasefile')!.href).pathname;
  const inputs = corpus(fileUrl);
  t.diagnostic(`corpus: ${inputs.length} bad inputs × 3 nodes = ${inputs.length * 3} requests`);
  assert.ok(inputs.length >= 60, `the corpus has ${inputs.length} inputs`);
  const serial = await converged();
  const rss = new RssSampler([master, replicaA, proxy], 100).start();
  const failures: string[] = [];
  try {
    for (const input of inputs) {
      for (const node of [master, replicaA, proxy]) {
        let res;
        try {
          res = await send(node, input);
        } catch (err) {
          failures.push(`${input.name} @ ${node.name}: no answer (${(err as Error).message})`);
          continue;
        }
        const where = `${input.name} @ ${node.name}: ${res.status} ${res.text.slice(0, 160)}`;
        let message: unknown;
        try {
          message = (JSON.parse(res.text) as { message?: unknown }).message;
        } catch {
          message = undefined;
        }
        if (res.status < 400 || res.status > 499) failures.push(`${where} — expected a 4xx`);
        else if (input.status !== undefined && res.status !== input.status) failures.push(`${where} — expected ${input.status}`);
        else if (typeof message !== 'string' || message.trim() === '' || !/json/.test(res.contentType)) failures.push(`${where} — no JSON message`);
        else if (input.message && !input.message.test(message)) failures.push(`${where} — message does not match ${String(input.message)}`);
      }
      const now = await master.api.statusSerial();
      if (now !== serial) failures.push(`${input.name}: the master's serial moved from ${serial} to ${now}`);
    }
  } finally {
    rss.stop();
  }
  t.diagnostic(`RSS while the corpus ran: ${rss.describe()}`);
  for (const node of [master, replicaA, replicaB, proxy]) assert.ok(node.running, `${node.name} died`);
  assert.deepEqual(failures, [], `${failures.length} of ${inputs.length * 3} answers were wrong:\n${failures.join('\n')}`);
  assert.equal(await master.api.statusSerial(), serial, 'the master committed something');
  assert.equal(await replicaA.api.statusSerial(), serial, 'the replica moved');
  for (const node of [master, replicaA, proxy]) {
    assert.ok(rss.growthBytes(node.name) < CORPUS_RSS_GROWTH_BOUND, `${node.name} RSS grew by ${rss.growthBytes(node.name)} bytes`);
  }
}));

test('six concurrent GET / over users with the largest descriptions allowed keep the replica RSS bounded', { timeout: 600_000 }, guarded(async (t) => {
  const { master, replicaA } = c();
  const description = 'd'.repeat(64 * 1024);
  const custom = { blob: 'c'.repeat(60 * 1024) };
  for (let i = 0; i < 40; i++) {
    const r = await master.api.put(`/bulk${i}`, { password: 'pw', description, custom_data: custom });
    assert.equal(r.status, 201, r.text);
  }
  await converged();
  const rss = new RssSampler([replicaA], 50).start();
  let listBytes = 0;
  try {
    for (let round = 0; round < 5; round++) {
      const bodies = await Promise.all(Array.from({ length: 6 }, async () => (await fetch(`${replicaA.url}/`, { headers: { Accept: 'application/json' } })).text()));
      listBytes = bodies[0]!.length;
      for (const b of bodies) assert.ok(!b.includes(description.slice(0, 1000)), 'GET / embeds a user description');
    }
  } finally {
    rss.stop();
  }
  const one = await replicaA.api.get('/bulk0');
  assert.equal(createHash('sha256').update(String((one.json as { result: { description: string } }).result.description)).digest('hex'), createHash('sha256').update(description).digest('hex'), 'GET /{user} keeps the whole description');
  t.diagnostic(`GET / is ${listBytes} bytes for 42 users; replica RSS: ${rss.describe()} (growth ${(rss.growthBytes(replicaA.name) / 2 ** 20).toFixed(1)} MB, bound ${LIST_RSS_GROWTH_BOUND / 2 ** 20} MB)`);
  assert.ok(rss.growthBytes(replicaA.name) < LIST_RSS_GROWTH_BOUND, `replica RSS grew by ${rss.growthBytes(replicaA.name)} bytes`);
  assert.ok(listBytes < 64 * 1024, `GET / is ${listBytes} bytes`);
}));
