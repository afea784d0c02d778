// Replication with real processes: one master and two replicas. twine uploads through replica 1 and
// pip installs from replica 2; then 1,000 seeded random writes (users, indexes with bases, uploads,
// deletes, pushes, PATCHes) through all three nodes, after which the three stores must be the same:
// equal changelog state digests at the same serial and byte-identical release files.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildFixture, createIndex, createUser, debianWheels, fixtureModule, fixtureName, fixtureVersion, makeVenv, pipInstall,
  pythonEval, simpleUrl, twineUpload,
} from './harness.js';
import { TestRoot, type WheelhouseProcess } from '@wheelhouse/testing';
import { blobFiles, compareBlobStores, storeState } from './node-state.js';
import { replicaStatus, waitConverged, waitForSerial } from './replica-status.js';
import { runWorkload } from './replication-workload.js';

const ROOT_PASSWORD = 'root-replication-e2e';
const USER = 'alice';
const PASSWORD = 'alice-replication-pw';
const INDEX = `${USER}/dev`;
const WRITES = 1_000;
const WORKERS = 8;
const SEED = Number(process.env['WH_E2E_SEED'] ?? Date.now() % 100_000);

const cluster = new TestRoot('replication');
let master: WheelhouseProcess | undefined;
let r1: WheelhouseProcess | undefined;
let r2: WheelhouseProcess | undefined;
const nodes = (): [WheelhouseProcess, WheelhouseProcess, WheelhouseProcess] => {
  assert.ok(master && r1 && r2, 'the cluster did not start (see the before hook)');
  return [master, r1, r2];
};

before(async () => {
  master = await cluster.startMaster('master', ROOT_PASSWORD);
  [r1, r2] = await Promise.all([cluster.startReplica('replica1', master), cluster.startReplica('replica2', master)]);
  await createUser(master.api.as({ user: 'root', password: ROOT_PASSWORD }), USER, PASSWORD);
  await createIndex(master.api.as({ user: USER, password: PASSWORD }), INDEX);
}, { timeout: 60_000 });

after(() => cluster.cleanup());

test('twine uploads through replica 1, pip installs from replica 2 into a fresh venv, and the module imports', { timeout: 240_000 }, cluster.guarded(async () => {
  const [m, rep1, rep2] = nodes();
  const fx = await buildFixture();
  const up = await twineUpload({ repositoryUrl: `${rep1.url}/${INDEX}/`, user: USER, password: PASSWORD, files: [...debianWheels(), fx.sdist, fx.wheel] });
  assert.equal(up.code, 0, up.describe());
  // the upload answered once replica 1 had caught up; replica 2 follows the same feed
  const serial = await m.api.statusSerial();
  await waitForSerial(rep2, serial, 30_000);

  const venv = await makeVenv(cluster.dir('venv-replica2'));
  const r = await pipInstall(venv, { indexUrl: simpleUrl(rep2.url, INDEX), requirements: [`${fixtureName}==${fixtureVersion}`] });
  assert.equal(r.code, 0, r.describe());
  assert.ok(r.installed.length > 0, `pip installed nothing:\n${r.describe()}`);
  for (const item of r.installed) {
    assert.ok(item.download_info.url.startsWith(`${rep2.url}/`), `${item.metadata.name} came from ${item.download_info.url}, not from replica 2 (${rep2.url})`);
  }
  const imp = await pythonEval(venv.python, `import ${fixtureModule}; print(${fixtureModule}.VERSION)`);
  assert.equal(imp.code, 0, imp.describe());
  assert.equal(imp.stdout.trim(), fixtureVersion);
}));

test(`${WRITES} random writes through master and replicas end with identical state digests and byte-identical files on all three nodes`, { timeout: 240_000 }, cluster.guarded(async (t) => {
  const [m, rep1, rep2] = nodes();
  t.diagnostic(`workload seed ${SEED} (set WH_E2E_SEED to replay it)`);
  const report = await runWorkload({
    targets: [{ name: 'master', url: m.url }, { name: 'replica1', url: rep1.url }, { name: 'replica2', url: rep2.url }],
    masterUrl: m.url,
    rootPassword: ROOT_PASSWORD,
    writes: WRITES,
    workers: WORKERS,
    seed: SEED,
    prefix: 'rw',
  });
  t.diagnostic(`${report.writes} writes in ${report.durationMs} ms; by kind ${JSON.stringify(report.byKind)}; by node ${JSON.stringify(report.byTarget)}`);
  assert.equal(report.writes, WRITES, 'the workload did not send every write');
  assert.deepEqual(report.unexpected, [], `${report.unexpected.length} writes got an unexpected answer`);

  const serial = await waitConverged(m, [rep1, rep2], 60_000);
  for (const r of [rep1, rep2]) {
    const s = await replicaStatus(r);
    assert.deepEqual(s['files-failed'], [], `${r.name} has failed files`);
    assert.equal(s['replication-error'], null, `${r.name} replication-error`);
    assert.equal(s['replication-fatal'], null, `${r.name} replication-fatal`);
  }

  // replicas first, so no serial can arrive after the master stopped
  await Promise.all([rep1.stop(), rep2.stop()]);
  await m.stop();
  const [sm, s1, s2] = await Promise.all([storeState(m.datadir), storeState(rep1.datadir), storeState(rep2.datadir)]);
  assert.equal(sm.head, serial, 'master head after stop');
  assert.deepEqual(s1, sm, 'replica 1 store (head, state digest) differs from the master');
  assert.deepEqual(s2, sm, 'replica 2 store (head, state digest) differs from the master');
  const blobs = blobFiles(m.datadir).size;
  assert.ok(blobs >= (report.byKind['upload'] ?? 0), `the master holds only ${blobs} files after ${report.byKind['upload'] ?? 0} uploads`);
  assert.deepEqual(compareBlobStores(m, rep1), [], 'replica 1 files differ from the master');
  assert.deepEqual(compareBlobStores(m, rep2), [], 'replica 2 files differ from the master');
}));
