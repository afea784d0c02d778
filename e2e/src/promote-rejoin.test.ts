// Manual promotion and rejoin without etcd (issue 14, docs/operations.md "Promotion and rejoin"):
// master + replica + proxy; the replica is stopped while an upload still reaches the master, then
// the master is SIGKILLed. `promote` is refused (the proxy saw a serial the replica lacks) and
// names the missing serials; `--force` promotes and prints them. The promoted replica runs as the
// master of epoch 2 on its own port, and the proxy sends uploads to it. The old master restarted
// is fenced (its known replica says epoch 2): writes straight to it answer 503 "fenced: epoch 1
// superseded by 2". `rejoin` exports the upload it acknowledged alone (records + files) and makes
// it a replica of the new master, which it converges with to the same state digest. Then the
// rejoined node, caught up, is promoted without --force to epoch 3 (the proxy follows), and the
// epoch 2 master restarted is fenced by it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeResponse, legacyUpload, messageOf, type ApiResponse, type Credentials } from './harness.js';
import { TestRoot, notYet, run, waitFor, wheelhouseBin, type WheelhouseProcess } from '@wheelhouse/testing';
import { storeState } from './node-state.js';

const USER = 'erin';
const PASSWORD = 'erin-promote-pw';
const INDEX = `${USER}/dev`;
const ERIN: Credentials = { user: USER, password: PASSWORD };

const cluster = new TestRoot('promote-rejoin');
let master: WheelhouseProcess;
let replica: WheelhouseProcess;
let proxy: WheelhouseProcess;
let promoted: WheelhouseProcess | undefined;
let rejoined: WheelhouseProcess | undefined;

before(async () => {
  // asynchronous replication (--sync-replicas 0): the case where a replica can be behind what the
  // master acknowledged, which promote must refuse (with sync replicas every acknowledged write is on one)
  master = await cluster.startMaster('master', 'root-promote-e2e', { args: ['--sync-replicas', '0'] });
  replica = await cluster.startReplica('replica', master);
  proxy = await cluster.proxy('proxy', master, [replica]).start();
  const user = await master.api.put(`/${USER}`, { password: PASSWORD, email: 'erin@example.invalid' });
  assert.equal(user.status, 201, describeResponse(user));
  const ix = await master.api.as(ERIN).put(`/${INDEX}`, {});
  assert.ok(ix.status === 200 || ix.status === 201, describeResponse(ix));
}, { timeout: 90_000 });

after(() => cluster.cleanup());

function upload(url: string, project: string, version: string): Promise<ApiResponse> {
  const filename = `${project}-${version}.tar.gz`;
  return legacyUpload(`${url}/${INDEX}/`, ERIN, { path: filename, filename, content: randomBytes(900), name: project, version });
}

function wheelhouse(args: string[]): ReturnType<typeof run> {
  return run(process.execPath, [wheelhouseBin, ...args], { timeoutMs: 60_000, cwd: cluster.root });
}

async function statusOf(node: WheelhouseProcess): Promise<Record<string, unknown>> {
  const res = await node.api.get('/+status');
  assert.equal(res.status, 200, describeResponse(res));
  return (res.json as { result: Record<string, unknown> }).result;
}

test('promote is refused while the replica is behind, --force promotes and lists the missing serials, the proxy writes to the new master, the old master is fenced, and rejoin exports its diverged upload and converges', { timeout: 400_000 }, cluster.guarded(async (t) => {
  const t0 = Date.now();
  const mark = (what: string): void => t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);
  const first = await upload(proxy.url, 'before', '1.0');
  assert.equal(first.status, 200, describeResponse(first));
  await waitFor(async () => {
    const [r, m] = [await statusOf(replica), await statusOf(master)];
    return (r.serial as number) >= (m.serial as number) || notYet(`replica at ${String(r.serial)}, master at ${String(m.serial)}`);
  }, { what: 'the replica to catch up', timeoutMs: 30_000 });
  assert.equal((await statusOf(master)).epoch, 1, 'init writes epoch 1');

  // the replica stops; an upload still reaches the master and is acknowledged by it alone
  await replica.stop();
  const lonely = await upload(proxy.url, 'lonely', '1.0');
  assert.equal(lonely.status, 200, describeResponse(lonely));
  const lonelySerial = Number(lonely.headers.get('x-devpi-serial'));
  await master.kill();
  mark('master SIGKILLed');

  const refused = await wheelhouse(['promote', '--datadir', replica.datadir, '--peer', proxy.url]);
  assert.equal(refused.code, 1, `promote while behind must be refused:\n${refused.describe()}`);
  assert.match(refused.stderr, /behind/);
  assert.match(refused.stderr, new RegExp(`missing: [0-9.]*${lonelySerial}`), refused.describe());

  mark('promote refused');
  const forced = await wheelhouse(['promote', '--datadir', replica.datadir, '--peer', proxy.url, '--force', '--secret-file', master.secretFile]);
  assert.equal(forced.code, 0, forced.describe());
  assert.match(forced.stdout, new RegExp(`may be missing.*${lonelySerial}`), forced.describe());
  assert.match(forced.stdout, /master of epoch 2/);
  t.diagnostic(forced.stdout.trim());
  mark('promoted (--force)');

  promoted = cluster.node({ name: 'promoted', role: 'master', datadir: replica.datadir, port: replica.port, args: ['--secret-file', master.secretFile] });
  await promoted.start();
  mark('promoted node ready as master');
  const st = await statusOf(promoted);
  assert.equal(st.epoch, 2);
  assert.equal(st.fenced, false);

  // the proxy learns epoch 2 from the promoted node's answers and writes go there
  const after1 = await waitFor(async () => {
    const r = await upload(proxy.url, 'after', '1.0');
    return r.status === 200 ? r : notYet(describeResponse(r));
  }, { what: 'an upload through the proxy to the promoted master', timeoutMs: 30_000, intervalMs: 200 });
  assert.equal(after1.headers.get('x-wheelhouse-epoch'), '2', 'the upload was answered by the epoch 2 master');
  mark('first upload through the proxy to the new master');
  const proxyStatus = await statusOf(proxy);
  assert.equal(proxyStatus.epoch, 2);
  assert.equal(proxyStatus.leader, promoted.url);

  // the old master comes back: its known replica (now the master of epoch 2) fences it at start-up
  await master.start({ waitReady: false });
  mark('old master restarted');
  const direct = await upload(master.url, 'split', '1.0');
  assert.equal(direct.status, 503, `a write straight to the old master: ${describeResponse(direct)}`);
  assert.match(messageOf(direct) ?? "", /fenced: epoch 1 superseded by 2/);
  const oldStatus = await statusOf(master);
  assert.equal((oldStatus.fenced as { supersededBy: number }).supersededBy, 2);
  const ready = await master.api.get('/+ready');
  assert.equal(ready.status, 503, 'a fenced master is not ready');
  const viaProxy = await upload(proxy.url, 'after', '2.0');
  assert.equal(viaProxy.status, 200, describeResponse(viaProxy));
  assert.equal(viaProxy.headers.get('x-wheelhouse-epoch'), '2');

  // rejoin: the lonely upload is exported, never merged; the old master becomes a replica
  await master.stop();
  const rejoin = await wheelhouse(['rejoin', '--datadir', master.datadir, '--master-url', promoted.url]);
  assert.equal(rejoin.code, 0, rejoin.describe());
  assert.match(rejoin.stdout, /diverged: \d+ records/);
  t.diagnostic(rejoin.stdout.trim());
  mark('rejoined');
  const exportName = readdirSync(cluster.root).find((n) => n.startsWith('master.diverged-1-'));
  assert.ok(exportName, `no export directory beside ${master.datadir}: ${readdirSync(cluster.root).join(', ')}`);
  const exportDir = join(cluster.root, exportName!);
  const records = readFileSync(join(exportDir, 'records.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { serial: number; changes: Array<{ key: string }> });
  assert.ok(records.some((r) => r.serial === lonelySerial && r.changes.some((c) => c.key.includes('lonely'))), `the lonely upload's record is exported: ${JSON.stringify(records.map((r) => r.serial))}`);
  assert.ok(readdirSync(join(exportDir, 'files')).length >= 1, 'its release file is exported');
  assert.ok(existsSync(join(exportDir, 'db')), 'the old store is kept in the export');

  rejoined = cluster.node({ name: 'rejoined', role: 'replica', datadir: master.datadir, port: master.port, args: ['--master-url', promoted.url, '--secret-file', master.secretFile] });
  await rejoined.start();
  const target = (await statusOf(promoted)).serial as number;
  await waitFor(async () => {
    const s = await statusOf(rejoined!);
    return (s.serial as number) >= target ? s : notYet(JSON.stringify({ serial: s.serial, target }));
  }, { what: 'the rejoined node to converge', timeoutMs: 60_000, intervalMs: 100 });
  mark('rejoined node converged');
  const rs = await statusOf(rejoined);
  assert.equal(rs.role, 'REPLICA');
  assert.equal(rs.epoch, 2);
  const lonelyThere = await rejoined.api.get(`/${INDEX}/lonely/`);
  assert.equal(lonelyThere.status, 404, 'the diverged upload was not merged');

  await rejoined.stop();
  await promoted.stop();
  const [a, b] = await Promise.all([storeState(promoted.datadir), storeState(rejoined.datadir)]);
  // (the next test promotes the rejoined node once more)
  assert.equal(b.head, a.head);
  assert.equal(b.digest, a.digest, 'the rejoined node holds the new master\'s state');
}));

test('a caught-up replica is promoted without --force (epoch 3); the proxy follows it and the epoch 2 master restarted is fenced by it', { timeout: 400_000 }, cluster.guarded(async (t) => {
  assert.ok(promoted && rejoined, 'the first test did not get this far');
  const [m2, r] = [promoted, rejoined];
  await m2.start();
  await r.start();
  const up = await waitFor(async () => {
    const res = await upload(proxy.url, 'third', '1.0');
    return res.status === 200 ? res : notYet(describeResponse(res));
  }, { what: 'an upload through the proxy to the epoch 2 master', timeoutMs: 60_000, intervalMs: 250 });
  const serial = Number(up.headers.get('x-devpi-serial'));
  await waitFor(async () => ((await statusOf(r)).serial as number) >= serial || notYet('replica behind'), { what: 'the replica to catch up', timeoutMs: 60_000, intervalMs: 100 });
  await m2.kill();
  await r.stop();

  const ok = await wheelhouse(['promote', '--datadir', r.datadir, '--peer', proxy.url]);
  assert.equal(ok.code, 0, `a caught-up replica is promoted without --force:\n${ok.describe()}`);
  assert.doesNotMatch(ok.stdout, /WARNING/);
  assert.match(ok.stdout, /master of epoch 3 \(was 2\)/);
  t.diagnostic(ok.stdout.trim());

  const third = cluster.node({ name: 'third', role: 'master', datadir: r.datadir, port: r.port, args: ['--secret-file', master.secretFile] });
  await third.start();
  const viaProxy = await waitFor(async () => {
    const res = await upload(proxy.url, 'third', '2.0');
    return res.status === 200 ? res : notYet(describeResponse(res));
  }, { what: 'an upload through the proxy to the epoch 3 master', timeoutMs: 60_000, intervalMs: 250 });
  assert.equal(viaProxy.headers.get('x-wheelhouse-epoch'), '3');

  // the epoch 2 master comes back: the replica it knew is now the master of epoch 3
  await m2.start({ waitReady: false });
  const direct = await upload(m2.url, 'split', '2.0');
  assert.equal(direct.status, 503, describeResponse(direct));
  assert.match(messageOf(direct) ?? '', /fenced: epoch 2 superseded by 3/);
}));
