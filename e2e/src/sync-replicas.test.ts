// Acknowledged means replicated (issue 14, part 2), with real processes: a master with
// --sync-replicas 1 answers an upload only once its replica holds the record and the file, durably.
// A stopped replica (SIGSTOP) turns uploads into 503 after --sync-timeout — the record stays
// committed and reaches the replica after SIGCONT; with --sync-degrade the upload succeeds anyway
// (counted); SIGKILL of the master right after an acknowledged upload leaves the replica with it,
// byte-identical.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { buildSdist, TestRoot, waitFor, type WheelhouseProcess } from '@wheelhouse/testing';
import { createIndex, createUser, legacyUpload } from './harness.js';
import { blobPath } from './node-state.js';
import { waitForSerial } from './replica-status.js';

const ROOT_PASSWORD = 'root-sync-e2e';
const OWNER = { user: 'sync', password: 'sync-e2e-pw' };
const INDEX = 'sync/dev';
const PROJECT = 'wh-sync-demo';
/** --sync-timeout of these masters, ms. */
const SYNC_TIMEOUT_MS = 2_000;

const root = new TestRoot('sync-replicas');
const stopped = new Set<WheelhouseProcess>();
after(async () => {
  for (const node of stopped) if (node.pid) process.kill(node.pid, 'SIGCONT');
  await root.cleanup();
});

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** A master with `args` and one replica of it, with user and index made (through the master). */
async function pair(name: string, args: string[]): Promise<{ master: WheelhouseProcess; replica: WheelhouseProcess }> {
  const master = await root.startMaster(`${name}-master`, ROOT_PASSWORD, { args: ['--sync-timeout', `${SYNC_TIMEOUT_MS}ms`, ...args] });
  const replica = await root.startReplica(`${name}-replica`, master);
  await createUser(master.api.as({ user: 'root', password: ROOT_PASSWORD }), OWNER.user, OWNER.password);
  await createIndex(master.api.as(OWNER), INDEX);
  return { master, replica };
}

/** Uploads sdist `version` to the master; status, serial, message, ms taken and the file's sha256 and bytes. */
async function upload(master: WheelhouseProcess, version: string) {
  const sdist = buildSdist(PROJECT, version);
  const t0 = Date.now();
  const res = await legacyUpload(`${master.url}/${INDEX}/`, OWNER, { path: sdist.filename, filename: sdist.filename, content: sdist.content, name: PROJECT, version });
  return { status: res.status, serial: res.serial, text: res.text, ms: Date.now() - t0, sha256: sha256(sdist.content), content: sdist.content };
}

/** The replica's own head (its /+status serial), asked directly. */
const replicaSerial = (replica: WheelhouseProcess): Promise<number> => replica.api.statusSerial();

function stop(node: WheelhouseProcess): void {
  process.kill(node.pid!, 'SIGSTOP');
  stopped.add(node);
}
function resume(node: WheelhouseProcess): void {
  process.kill(node.pid!, 'SIGCONT');
  stopped.delete(node);
}

test('--sync-replicas 1: an upload is answered only once the replica holds record and file; a stopped replica turns it into a 503 after the wait; SIGKILL of the master loses nothing acknowledged', { timeout: 240_000 }, root.guarded(async (t) => {
  const { master, replica } = await pair('strict', ['--sync-replicas', '1']);

  const first = await upload(master, '1.0');
  assert.equal(first.status, 200, first.text);
  // at the moment of the answer (no waiting here): the replica has applied the serial and stored the file
  assert.ok((await replicaSerial(replica)) >= first.serial!, 'the replica had not applied the acknowledged serial');
  assert.deepEqual(readFileSync(blobPath(replica.datadir, first.sha256)), first.content, 'the acknowledged file is not on the replica');

  stop(replica);
  const refused = await upload(master, '2.0');
  t.diagnostic(`upload with the replica stopped: ${refused.status} after ${refused.ms} ms: ${refused.text}`);
  assert.equal(refused.status, 503, refused.text);
  assert.ok(refused.ms >= SYNC_TIMEOUT_MS - 100, `answered after ${refused.ms} ms, before the ${SYNC_TIMEOUT_MS} ms wait`);
  assert.ok(refused.ms < SYNC_TIMEOUT_MS + 15_000, `answered only after ${refused.ms} ms`);
  assert.match(JSON.parse(refused.text).message, /committed on the master.*0 of the 1 required replica/);
  assert.ok(refused.serial !== undefined && refused.serial > first.serial!, 'the 503 names the committed serial');
  // any other write waits the same way: an index change
  const patch = await master.api.as(OWNER).patch(`/${INDEX}`, { title: 'changed while the replica sleeps' });
  assert.equal(patch.status, 503, patch.text);
  const status = (await master.status()) as { 'sync-replication'?: { timeouts?: number; required?: number } };
  assert.equal(status['sync-replication']?.required, 1);
  assert.equal(status['sync-replication']?.timeouts, 2);
  const metrics = await (await fetch(`${master.url}/+metrics`)).text();
  assert.match(metrics, /^wheelhouse_sync_timeouts 2$/m);

  resume(replica);
  // the refused upload stays committed on the master and reaches the replica
  await waitForSerial(replica, refused.serial!, 30_000);
  await waitFor(() => existsSync(blobPath(replica.datadir, refused.sha256)), { what: 'the refused upload\'s file on the replica', timeoutMs: 30_000 });
  assert.deepEqual(readFileSync(blobPath(replica.datadir, refused.sha256)), refused.content);
  const again = await upload(master, '3.0');
  assert.equal(again.status, 200, again.text);
  // a retry of the refused upload: the identical file is already there, answered 200 once replicated
  const retry = await upload(master, '2.0');
  assert.equal(retry.status, 200, retry.text);

  const last = await upload(master, '4.0');
  assert.equal(last.status, 200, last.text);
  await master.kill9();
  assert.ok((await replicaSerial(replica)) >= last.serial!, 'the replica lost the serial acknowledged before the master died');
  assert.deepEqual(readFileSync(blobPath(replica.datadir, last.sha256)), last.content, 'the file acknowledged before the master died is not byte-identical on the replica');
  // and it serves it without the master
  const page = await replica.api.get(`/${INDEX}/+simple/${PROJECT}/`, { headers: { accept: 'text/html' } });
  assert.equal(page.status, 200, page.text);
  const href = /href="([^"]*4\.0[^"]*)"/.exec(page.text)?.[1];
  assert.ok(href, `no 4.0 link on ${page.text}`);
  const file = await fetch(new URL(href.replace(/&amp;/g, '&'), `${replica.url}/${INDEX}/+simple/${PROJECT}/`));
  assert.equal(file.status, 200);
  assert.equal(sha256(new Uint8Array(await file.arrayBuffer())), last.sha256);
}));

test('--sync-degrade: with the replica stopped the upload succeeds (after one wait, then at once) and is counted; after SIGCONT writes wait for the replica again', { timeout: 240_000 }, root.guarded(async (t) => {
  const { master, replica } = await pair('degrade', ['--sync-replicas', '1', '--sync-degrade']);
  stop(replica);
  const firstWhileStopped = await upload(master, '1.0');
  const secondWhileStopped = await upload(master, '2.0');
  t.diagnostic(`uploads with the replica stopped: ${firstWhileStopped.status} after ${firstWhileStopped.ms} ms, ${secondWhileStopped.status} after ${secondWhileStopped.ms} ms`);
  assert.equal(firstWhileStopped.status, 200, firstWhileStopped.text);
  assert.equal(secondWhileStopped.status, 200, secondWhileStopped.text);
  assert.ok(secondWhileStopped.ms < SYNC_TIMEOUT_MS, `degraded, the second upload still waited ${secondWhileStopped.ms} ms`);
  const metrics = await (await fetch(`${master.url}/+metrics`)).text();
  assert.match(metrics, /^wheelhouse_sync_degraded_writes 2$/m);
  assert.match(metrics, /^wheelhouse_sync_degraded 1$/m);
  resume(replica);
  await waitForSerial(replica, secondWhileStopped.serial!, 30_000);
  // once the replica confirmed the head (records and files): synchronous again
  const degraded = async () => ((await master.status()) as { 'sync-replication'?: { degraded?: boolean } })['sync-replication']?.degraded;
  await waitFor(async () => (await degraded()) === false, { what: 'the master to leave the degraded state', timeoutMs: 30_000 });
  const after = await upload(master, '3.0');
  assert.equal(after.status, 200, after.text);
  assert.ok((await replicaSerial(replica)) >= after.serial!, 'synchronous again: the replica holds the answered upload');
  const status = (await master.status()) as { 'sync-replication'?: { degraded?: boolean; 'degraded-writes'?: number } };
  assert.equal(status['sync-replication']?.degraded, false);
  assert.equal(status['sync-replication']?.['degraded-writes'], 2);
}));

test('default --sync-replicas: 1 once the replica has confirmed, remembered across a master restart (the first upload after it waits for the reconnecting replica)', { timeout: 240_000 }, root.guarded(async () => {
  const { master, replica } = await pair('default', []);
  const required = async () => ((await master.status()) as { 'sync-replication'?: { required?: number } })['sync-replication']?.required;
  // user and index are made; the replica confirmed them
  await waitFor(async () => (await required()) === 1, { what: 'the master to count its replica', timeoutMs: 30_000 });
  const before = await upload(master, '1.0');
  assert.equal(before.status, 200, before.text);
  await master.kill9();
  await master.restart();
  assert.equal(await required(), 1, 'after the restart the master still knows it has a replica');
  const after = await upload(master, '2.0');
  assert.equal(after.status, 200, after.text);
  assert.ok((await replicaSerial(replica)) >= after.serial!, 'the first upload after the restart was answered before the replica had it');
  assert.deepEqual(readFileSync(blobPath(replica.datadir, after.sha256)), after.content);
}));
