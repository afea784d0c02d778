// Installs never depend on the master being up (devpi #628, #862: a devpi replica's reads failed
// while its master was down): with the master stopped, pip installs from both replicas succeed from
// what they replicated, and a write through a replica gets a 503 saying the master is unreachable
// (devpi answers 500). Once the master is back on the same data directory and port, uploads
// through the replicas work again without restarting them, and each is on the replica's simple
// page the moment the upload returns (read-your-writes).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  buildFixture, describeResponse, fixtureModule, fixtureName, fixtureVersion, legacyUpload, makeVenv, messageOf, pipInstall,
  projectJson, pythonEval, simpleUrl, twineUpload, type ApiResponse, type Credentials,
} from './harness.js';
import { notYet, TestRoot, waitFor, type WheelhouseProcess } from '@wheelhouse/testing';
import { hasBlob } from './node-state.js';
import { describeStatus, replicaStatus, waitConverged } from './replica-status.js';

const ROOT_PASSWORD = 'root-master-down-e2e';
const USER = 'carol';
const PASSWORD = 'carol-master-down-pw';
const INDEX = `${USER}/dev`;
const CAROL: Credentials = { user: USER, password: PASSWORD };

const cluster = new TestRoot('replication-master-down');
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
  const user = await master.api.put(`/${USER}`, { password: PASSWORD, email: 'carol@example.invalid' });
  assert.equal(user.status, 201, describeResponse(user));
  const ix = await master.api.as(CAROL).put(`/${INDEX}`, {});
  assert.ok(ix.status === 200 || ix.status === 201, describeResponse(ix));
}, { timeout: 60_000 });

after(() => cluster.cleanup());

function uploadSdist(node: WheelhouseProcess, project: string, version: string): Promise<ApiResponse> {
  const filename = `${project}-${version}.tar.gz`;
  return legacyUpload(`${node.url}/${INDEX}/`, CAROL, { path: filename, filename, content: randomBytes(700), name: project, version });
}

async function installFrom(replica: WheelhouseProcess): Promise<void> {
  const venv = await makeVenv(cluster.dir(`venv-${replica.name}`));
  const r = await pipInstall(venv, { indexUrl: simpleUrl(replica.url, INDEX), requirements: [`${fixtureName}==${fixtureVersion}`] });
  assert.equal(r.code, 0, `pip install from ${replica.name} with the master down:\n${r.describe()}`);
  for (const item of r.installed) {
    assert.ok(item.download_info.url.startsWith(`${replica.url}/`), `${item.metadata.name} came from ${item.download_info.url}, not ${replica.url}`);
  }
  const imp = await pythonEval(venv.python, `import ${fixtureModule}; print(${fixtureModule}.VERSION)`);
  assert.equal(imp.code, 0, imp.describe());
  assert.equal(imp.stdout.trim(), fixtureVersion);
}

test('with the master stopped, pip installs from both replicas succeed and writes through a replica get a 503 naming the unreachable master; after the master restarts, uploads through the replicas work again', { timeout: 300_000 }, cluster.guarded(async (t) => {
  const [m, rep1, rep2] = nodes();
  const fx = await buildFixture();
  const up = await twineUpload({ repositoryUrl: `${rep1.url}/${INDEX}/`, user: USER, password: PASSWORD, files: [fx.sdist, fx.wheel] });
  assert.equal(up.code, 0, up.describe());
  await waitConverged(m, [rep1, rep2], 30_000);
  const { data: page } = await projectJson(m.url, INDEX, fixtureName);
  for (const f of page.files) {
    const sha = f.hashes['sha256'] ?? '';
    for (const r of [rep1, rep2]) assert.ok(hasBlob(r, sha), `${r.name} lacks ${f.filename} although files-queued is 0`);
  }

  const stopped = await m.stop();
  t.diagnostic(`master stopped by SIGTERM: ${JSON.stringify(stopped)}`);

  await Promise.all([installFrom(rep1), installFrom(rep2)]);

  for (const [node, what, send] of [
    [rep1, 'upload', () => uploadSdist(rep1, 'downpkg', '1.0')],
    [rep2, 'PATCH of the index', () => rep2.api.as(CAROL).patch(`/${INDEX}`, { title: 'while the master is down' })],
  ] as const) {
    const res = await send();
    assert.equal(res.status, 503, `${what} through ${node.name} with the master down: ${describeResponse(res)}`);
    const message = messageOf(res) ?? '';
    assert.match(message, /master/i, `the 503 message does not mention the master: ${describeResponse(res)}`);
    assert.match(message, /unreachable/i, `the 503 message does not say the master is unreachable: ${describeResponse(res)}`);
  }
  // the outage is visible in the replica's status
  await waitFor(async () => {
    const s = await replicaStatus(rep1);
    return s['replication-error'] !== null || notYet(describeStatus(s));
  }, { what: `${rep1.name} to report the replication error`, timeoutMs: 15_000 });

  await m.start();
  for (const [node, version] of [[rep1, '2.0'], [rep2, '2.1']] as const) {
    const res = await uploadSdist(node, 'uppkg', version);
    assert.equal(res.status, 200, `upload through ${node.name} after the master restarted: ${describeResponse(res)}`);
    // read-your-writes: on this replica's simple page at once, no waiting
    const { data } = await projectJson(node.url, INDEX, 'uppkg');
    assert.ok(
      data.files.some((f) => f.filename === `uppkg-${version}.tar.gz`),
      `uppkg-${version}.tar.gz is not on ${node.name}'s simple page right after the upload returned: ${data.files.map((f) => f.filename).join(', ')}`,
    );
  }
  await waitConverged(m, [rep1, rep2], 30_000);
  for (const r of [rep1, rep2]) {
    const s = await replicaStatus(r);
    assert.equal(s['replication-error'], null, `${r.name} still reports an error after the master came back: ${describeStatus(s)}`);
  }
}));

test('the same after kill -9 of the master: writes through a replica get the 503, reads go on, and after the restart uploads through the replica work and are visible at once', { timeout: 120_000 }, cluster.guarded(async () => {
  const [m, rep1, rep2] = nodes();
  await m.kill9();
  const down = await uploadSdist(rep2, 'killpkg', '1.0');
  assert.equal(down.status, 503, `upload through ${rep2.name} after kill -9 of the master: ${describeResponse(down)}`);
  assert.match(messageOf(down) ?? '', /master.*unreachable/i, describeResponse(down));
  const { page } = await projectJson(rep2.url, INDEX, fixtureName);
  assert.equal(page.status, 200, `${rep2.name}'s simple page with the master killed`);

  await m.start();
  const res = await uploadSdist(rep2, 'killpkg', '1.1');
  assert.equal(res.status, 200, `upload through ${rep2.name} after the master restarted: ${describeResponse(res)}`);
  const { data } = await projectJson(rep2.url, INDEX, 'killpkg');
  assert.ok(data.files.some((f) => f.filename === 'killpkg-1.1.tar.gz'), `not on ${rep2.name}'s simple page right after the upload returned: ${data.files.map((f) => f.filename).join(', ')}`);
  await waitConverged(m, [rep1, rep2], 30_000);
}));
