// Replication when things go wrong, with real processes: a replica killed with -9 during its initial
// catch-up resumes where it was; a release file missing from (or corrupted on) the master's disk
// fails alone and visibly while every later serial and file still replicates (devpi #489, #858,
// #1107: one bad file stalled a devpi replica); the changelog feed and blob endpoint refuse anyone
// without a valid replica token. Each test has its own master, so one test's damage stays its own.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Changelog } from '@wheelhouse/changelog';
import { REPLICA_SUBJECT, REPLICA_TOKEN_SECONDS, TokenSigner, replicaTokenSigner } from '@wheelhouse/core';
import { describeResponse, legacyUpload, sha256Hex, type ApiResponse, type Credentials } from './harness.js';
import { notYet, TestRoot, waitFor, type WheelhouseProcess } from '@wheelhouse/testing';
import { blobPath, hasBlob, storeState } from './node-state.js';
import { describeStatus, replicaStatus, waitForSerial } from './replica-status.js';

const ROOT_PASSWORD = 'root-failures-e2e';
const cluster = new TestRoot('replication-failures');
after(() => cluster.cleanup());

/** A master with user `bob` and index `bob/dev`; returns bob's token credentials. */
async function masterWithIndex(name: string): Promise<{ master: WheelhouseProcess; bob: Credentials }> {
  const master = await cluster.startMaster(name, ROOT_PASSWORD);
  const created = await master.api.put('/bob', { password: 'bob-pw', email: 'bob@example.invalid' });
  assert.equal(created.status, 201, describeResponse(created));
  const bob: Credentials = { user: 'bob', token: await master.api.login('bob', 'bob-pw') };
  const ix = await master.api.as(bob).put('/bob/dev', {});
  assert.ok(ix.status === 200 || ix.status === 201, describeResponse(ix));
  return { master, bob };
}

/** Uploads a small sdist `{project}-{version}.tar.gz` of random bytes; returns its sha256. */
async function uploadSdist(node: WheelhouseProcess, auth: Credentials, project: string, version: string): Promise<string> {
  const filename = `${project}-${version}.tar.gz`;
  const content = randomBytes(512 + Math.floor(Math.random() * 1024));
  const res = await legacyUpload(`${node.url}/bob/dev/`, auth, { path: filename, filename, content, name: project, version });
  assert.equal(res.status, 200, `upload of ${filename} via ${node.name}: ${describeResponse(res)}`);
  return sha256Hex(content);
}

test('kill -9 of a replica during its initial catch-up: the restarted replica resumes from its applied serial and converges', { timeout: 120_000 }, cluster.guarded(async (t) => {
  const { master, bob } = await masterWithIndex('master-catchup');
  // a few thousand serials, each a PATCH with a 1 KiB description, so the catch-up takes a moment
  const SERIALS = 2_000;
  const api = master.api.as(bob);
  let sent = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (sent < SERIALS) {
      sent++;
      const res = await api.patch('/bob/dev', { description: `${sent} ${randomBytes(512).toString('hex')}` });
      assert.equal(res.status, 200, describeResponse(res));
    }
  }));
  const target = await master.api.statusSerial();
  assert.ok(target >= SERIALS, `master at serial ${target}`);

  const replica = cluster.replica('replica-killed', master);
  await replica.start({ waitReady: false });
  // kill it a good way into the catch-up (at least a quarter), so the resume has something to keep
  const killAt = Math.floor(target / 4);
  const seen = await waitFor(
    async () => {
      const s = await replicaStatus(replica);
      if (s.serial >= killAt && s.serial < target) {
        await replica.kill9(); // at once: every ms counts
        return s.serial;
      }
      if (s.serial >= target) throw new Error(`the replica caught up (serial ${s.serial}) before it could be killed mid-way`);
      return notYet(describeStatus(s));
    },
    { what: `the replica to be part-way through its catch-up (${killAt} <= serial < ${target})`, timeoutMs: 30_000, intervalMs: 5 },
  );
  await replica.kill9();
  // what the killed replica holds on disk (its lock is free now)
  const killed = await Changelog.open({ location: `${replica.datadir}/db` });
  const killedHead = killed.head;
  await killed.close();
  t.diagnostic(`killed at status serial ${seen}; on disk: serial ${killedHead} of ${target}`);
  assert.ok(killedHead >= seen, `the replica's store is at ${killedHead} after kill -9, below the serial ${seen} its status reported`);
  assert.ok(killedHead < target, `the kill landed after the catch-up (store at ${killedHead}, master at ${target}): no mid-catch-up state to resume from`);

  await replica.start({ waitReady: false });
  const first = await replicaStatus(replica);
  assert.ok(first.serial >= killedHead, `after restart the replica reports serial ${first.serial}, below ${killedHead} it held: it did not resume`);
  assert.ok(first['records-applied'] <= target - killedHead, `the restarted replica applied ${first['records-applied']} records; resuming from ${killedHead} needs at most ${target - killedHead}`);

  await waitFor(async () => {
    const res = await replica.api.get('/+ready');
    return res.status === 200 || notYet(`${res.status} ${res.text.slice(0, 200)}`);
  }, { what: 'the restarted replica to be ready', timeoutMs: 60_000 });
  const caughtUp = await waitForSerial(replica, target, 60_000);
  assert.ok(caughtUp['records-applied'] <= target - killedHead, `the restarted replica applied ${caughtUp['records-applied']} records, more than the ${target - killedHead} it lacked`);

  await replica.stop();
  await master.stop();
  const [sm, sr] = await Promise.all([storeState(master.datadir), storeState(replica.datadir)]);
  assert.deepEqual(sr, sm, 'the restarted replica (head, state digest) differs from the master');
}));

/** Starts a fresh replica of `master` and waits until it applied the master's serial. */
async function freshReplica(name: string, master: WheelhouseProcess): Promise<WheelhouseProcess> {
  const replica = await cluster.startReplica(name, master);
  await waitForSerial(replica, await master.api.statusSerial(), 30_000);
  return replica;
}

/** Waits until the replica's status lists exactly `shas` as failed, each with an error message. */
async function waitFailedFiles(replica: WheelhouseProcess, shas: readonly string[]): Promise<void> {
  const s = await waitFor(async () => {
    const st = await replicaStatus(replica);
    return st['files-failed'].length >= shas.length ? st : notYet(describeStatus(st));
  }, { what: `${replica.name} to list ${shas.length} failed file(s)`, timeoutMs: 30_000 });
  assert.deepEqual(s['files-failed'].map((f) => f.sha256).sort(), [...shas].sort(), `files-failed: ${describeStatus(s)}`);
  for (const f of s['files-failed']) {
    assert.ok(f.error.trim().length > 0, `failed file ${f.sha256} has no error message`);
    assert.ok(f.attempts >= 1, `failed file ${f.sha256}: attempts ${f.attempts}`);
  }
}

/** Waits until the replica holds `sha256` on its own disk. */
async function waitBlob(replica: WheelhouseProcess, sha256: string): Promise<void> {
  await waitFor(async () => {
    const st = await replicaStatus(replica);
    return hasBlob(replica, sha256) || notYet(describeStatus(st));
  }, { what: `${replica.name} to store ${sha256}`, timeoutMs: 30_000 });
}

test('a release file deleted from the master\'s disk fails alone, visibly, while later serials and files replicate (devpi #489, #858, #1107)', { timeout: 90_000 }, cluster.guarded(async () => {
  const { master, bob } = await masterWithIndex('master-missing');
  const lost = await uploadSdist(master, bob, 'lostpkg', '1.0');
  const before = await uploadSdist(master, bob, 'keptpkg', '1.0');
  rmSync(blobPath(master.datadir, lost));
  const after1 = await uploadSdist(master, bob, 'keptpkg', '1.1');

  const replica = await freshReplica('replica-missing', master);
  await waitFailedFiles(replica, [lost]);
  await waitBlob(replica, before);
  await waitBlob(replica, after1);
  assert.ok(!hasBlob(replica, lost), 'the replica stored a file the master does not have');

  // replication goes on past the failing file: a write and an upload made now arrive
  const later = await uploadSdist(master, bob, 'keptpkg', '1.2');
  const patched = await master.api.as(bob).patch('/bob/dev', { title: 'after the lost file' });
  assert.equal(patched.status, 200, describeResponse(patched));
  const s = await waitForSerial(replica, await master.api.statusSerial(), 30_000);
  assert.equal(s.serial, s['master-serial'], `replica behind: ${describeStatus(s)}`);
  await waitBlob(replica, later);
  await waitFailedFiles(replica, [lost]);
}));

test('a release file corrupted on the master\'s disk is refused by the replica (sha256 check), fails alone and visibly, and later files replicate', { timeout: 90_000 }, cluster.guarded(async () => {
  const { master, bob } = await masterWithIndex('master-corrupt');
  const bad = await uploadSdist(master, bob, 'badpkg', '1.0');
  const path = blobPath(master.datadir, bad);
  const original = readFileSync(path);
  const corrupted = Buffer.from(original);
  corrupted[corrupted.length >> 1] = (corrupted[corrupted.length >> 1] ?? 0) ^ 0xff; // same length, other bytes
  writeFileSync(path, corrupted);
  const good = await uploadSdist(master, bob, 'goodpkg', '1.0');

  const replica = await freshReplica('replica-corrupt', master);
  await waitFailedFiles(replica, [bad]);
  await waitBlob(replica, good);
  assert.ok(!hasBlob(replica, bad), 'the replica stored the corrupted bytes under the file\'s sha256');
  const later = await uploadSdist(master, bob, 'goodpkg', '1.1');
  await waitForSerial(replica, await master.api.statusSerial(), 30_000);
  await waitBlob(replica, later);
}));

test('the changelog feed and the blob endpoint refuse requests without a valid replica token (403)', { timeout: 60_000 }, cluster.guarded(async () => {
  const { master, bob } = await masterWithIndex('master-feed');
  const sha = await uploadSdist(master, bob, 'feedpkg', '1.0');
  const secret = readFileSync(master.secretFile);
  const validToken = replicaTokenSigner(secret).issue(REPLICA_SUBJECT, REPLICA_TOKEN_SECONDS);
  const cases: ReadonlyArray<readonly [string, Record<string, string>]> = [
    ['no Authorization', {}],
    ['Bearer garbage', { Authorization: 'Bearer garbage' }],
    ['a replica token signed with another secret', { Authorization: `Bearer ${replicaTokenSigner(randomBytes(32)).issue(REPLICA_SUBJECT, REPLICA_TOKEN_SECONDS)}` }],
    ['an expired replica token', { Authorization: `Bearer ${replicaTokenSigner(secret).issue(REPLICA_SUBJECT, 60, Date.now() - 3_600_000)}` }],
    ['a login token (other key purpose) for +replica', { Authorization: `Bearer ${new TokenSigner(secret).issue(REPLICA_SUBJECT)}` }],
    ["root's login token", { Authorization: `Bearer ${await master.api.login('root', ROOT_PASSWORD)}` }],
    ['Basic auth as root', { Authorization: `Basic ${Buffer.from(`root:${ROOT_PASSWORD}`).toString('base64')}` }],
  ];
  const get = (path: string, headers: Record<string, string>): Promise<ApiResponse> => master.api.get(path, { headers, timeoutMs: 10_000 });
  for (const [what, headers] of cases) {
    for (const path of ['/+changelog/0-', '/+changelog/0', `/+blob/${sha}`]) {
      const res = await get(path, headers);
      assert.equal(res.status, 403, `GET ${path} with ${what}: ${describeResponse(res)}`);
      assert.ok(!res.text.includes(sha) || path.startsWith('/+blob'), `GET ${path} with ${what} leaked data`);
    }
  }
  // the control: the same requests with a valid replica token are served
  const one = await get('/+changelog/0', { Authorization: `Bearer ${validToken}` });
  assert.equal(one.status, 200, `GET /+changelog/0 with a valid replica token: ${describeResponse(one)}`);
  const blob = await fetch(`${master.url}/+blob/${sha}`, { headers: { Authorization: `Bearer ${validToken}` }, signal: AbortSignal.timeout(10_000) });
  assert.equal(blob.status, 200);
  assert.equal(sha256Hex(new Uint8Array(await blob.arrayBuffer())), sha, 'the blob endpoint served other bytes');
}));
