// Online backup and restore with real processes (issue 5, docs/operations.md): `wheelhouse backup`
// of a running master, `wheelhouse restore` into a new data directory, a master started on it in
// the original's place. The restored store has the same UUID and serial, the same state (changelog
// state digest at that serial) and byte-identical files; and a replica that followed the original —
// stopped before the backup's serial, so it needs the records after its own serial again — carries
// on from the restored master without `--follow-new-master` (same UUID, same history), including new
// uploads made after the restore.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { buildFixture, createIndex, createUser, describeResponse, legacyUpload, sha256Hex, twineUpload, type Credentials } from './harness.js';
import { buildSdist, notYet, TestRoot, waitFor, WheelhouseProcess } from '@wheelhouse/testing';
import { compareBlobStores, storeState } from './node-state.js';
import { replicaStatus, waitConverged, waitForSerial } from './replica-status.js';
import { buildLeftovers, dirEntries, fetchBytes, storeUuid, toxResult, versionLinks, wheelhouseCli } from './dump-tools.js';

const ROOT_PASSWORD = 'root-backup-e2e';
const ERIN: Credentials = { user: 'erin', password: 'erin-backup-pw' };

const cluster = new TestRoot('backup-restore');
let restored: WheelhouseProcess | undefined;
after(async () => {
  await restored?.stop();
  await cluster.cleanup();
});

let original: WheelhouseProcess | undefined;
let replica: WheelhouseProcess | undefined;
before(async () => {
  // asynchronous replication: the drill stops the replica while the master goes on writing
  original = await cluster.startMaster('original', ROOT_PASSWORD, { args: ['--sync-replicas', '0'] });
  replica = await cluster.startReplica('replica', original);
}, { timeout: 60_000 });

async function uploadSdist(base: string, project: string, version: string): Promise<string> {
  const s = buildSdist(project, version);
  const res = await legacyUpload(`${base}/erin/dev/`, ERIN, { path: s.filename, filename: s.filename, content: s.content, name: project, version });
  assert.equal(res.status, 200, `upload ${s.filename}: ${describeResponse(res)}`);
  return sha256Hex(s.content);
}

test('backup of a running master, restore: same UUID, serial, state and files; its replica carries on without --follow-new-master', { timeout: 170_000 }, cluster.guarded(async (t) => {
  const m = original!;
  const r = replica!;
  await createUser(m.api.as({ user: 'root', password: ROOT_PASSWORD }), ERIN.user, 'erin-backup-pw');
  await createIndex(m.api.as(ERIN), 'erin/dev');
  const fx = await buildFixture();
  const up = await twineUpload({ repositoryUrl: `${m.url}/erin/dev/`, user: ERIN.user, password: 'erin-backup-pw', files: [fx.sdist, fx.wheel] });
  assert.equal(up.code, 0, up.describe());
  await uploadSdist(m.url, 'wh-bk', '1.0');
  const replicaSerial = await waitConverged(m, [r]);
  // the replica stops here; the master goes on
  await r.stop();
  const wheel = (await versionLinks(m.url, '/erin/dev/wh-e2e-demo/1.0.0')).find((l) => l.href.endsWith('.whl'))!;
  const tox = await m.api.as(ERIN).post(new URL(wheel.href).pathname, toxResult(wheel.hashes.sha256, 0));
  assert.equal(tox.status, 200, describeResponse(tox));
  for (const v of ['1.1', '1.2']) await uploadSdist(m.url, 'wh-bk', v);
  await createUser(m.api.as({ user: 'root', password: ROOT_PASSWORD }), 'frank', 'frank-pw');
  const uuid = await storeUuid(m.url);
  const serial = await m.api.statusSerial();
  assert.ok(serial > replicaSerial);

  const backupDir = cluster.dir('backup');
  const bk = await wheelhouseCli(['backup', '--datadir', m.datadir, backupDir]);
  assert.equal(bk.code, 0, bk.describe());
  assert.match(bk.stdout, new RegExp(`backed up store ${uuid} up to serial ${serial} \\(online, \\d+ files\\)`));
  assert.equal(await m.api.statusSerial(), serial, 'the backup wrote to the master');

  // restore refuses a non-empty target, and leaves it alone
  const busyTarget = cluster.dir('not-empty');
  mkdirSync(busyTarget);
  writeFileSync(join(busyTarget, 'keep'), 'x');
  const refused = await wheelhouseCli(['restore', '--datadir', busyTarget, backupDir]);
  assert.notEqual(refused.code, 0, refused.describe());
  assert.match(refused.stderr, /not empty/);
  assert.deepEqual(dirEntries(busyTarget), ['keep']);

  const restoredDir = cluster.dir('restored');
  const rs = await wheelhouseCli(['restore', '--datadir', restoredDir, backupDir]);
  assert.equal(rs.code, 0, rs.describe());
  assert.match(rs.stdout, new RegExp(`restored store ${uuid} at serial ${serial}`));
  assert.deepEqual(buildLeftovers(restoredDir), []);

  // the original stops (its host "burns"); compare the stores at rest
  await m.stop();
  const [orig, rest] = await Promise.all([storeState(m.datadir), storeState(restoredDir)]);
  assert.equal(orig.head, serial);
  assert.deepEqual(rest, orig, 'the restored store differs from the original at the backup serial');
  const node = cluster.master('restored', { datadir: restoredDir });
  assert.deepEqual(compareBlobStores(m, node), []);

  // the restored master takes the original's place (same port: the replica's --master-url)
  node.port = m.port;
  restored = node;
  await node.start();
  assert.equal(await storeUuid(node.url), uuid);
  assert.equal(await node.api.statusSerial(), serial);
  const login = await node.api.post('/+login', { user: 'frank', password: 'frank-pw' });
  assert.equal(login.status, 200, describeResponse(login));

  await r.start();
  await waitForSerial(r, serial, 30_000);
  const newSha = await uploadSdist(node.url, 'wh-bk', '2.0');
  const after = await waitConverged(node, [r]);
  assert.equal(after, serial + 1);
  const st = await replicaStatus(r);
  assert.equal(st['master-uuid'], uuid);
  assert.equal(st['replication-fatal'], null);
  const file = (await versionLinks(r.url, '/erin/dev/wh-bk/2.0'))[0];
  assert.ok(file);
  assert.equal(sha256Hex(await fetchBytes(file.href)), newSha);
  t.diagnostic(`replica stopped at ${replicaSerial}, backup at ${serial}, caught up to ${after} from the restored master`);

  await waitFor(async () => {
    const s = await replicaStatus(r);
    return s['files-queued'] === 0 ? s : notYet(JSON.stringify(s['files-failed']));
  }, { what: 'the replica to have every file', timeoutMs: 30_000 });
  await r.stop();
  await node.stop();
  const [rep, res] = await Promise.all([storeState(r.datadir), storeState(restoredDir)]);
  assert.deepEqual(rep, res, 'the replica and the restored master hold different states');
  assert.deepEqual(compareBlobStores(node, r), []);
}));
