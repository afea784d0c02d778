/**
 * Leadership and campaign against a real etcd started by the test (skipped, saying why, when
 * Debian's etcd-server is not installed).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pino } from 'pino';
import { Candidacy } from './candidacy.js';
import { connectEtcd, KEYS, readLeadership, type LeaderRecord } from './etcd-layout.js';
import { leaseTiming } from './lease-fence.js';
import type { LeaseHolder } from './lease-holder.js';
import { Leadership } from './leadership.js';
import { startLocalEtcd, type LocalEtcd } from './local-etcd.js';

const haveEtcd = spawnSync('etcd', ['--version']).status === 0;
const skip = haveEtcd ? false : 'etcd is not on PATH (apt-get install etcd-server)';
const log = pino({ level: 'silent' });
const timing = leaseTiming(2_000);
let etcd: LocalEtcd;
let dir: string;

before(async () => {
  if (!haveEtcd) return;
  dir = await mkdtemp(join(tmpdir(), 'wh-etcd-test-'));
  etcd = await startLocalEtcd(join(dir, 'etcd'));
});
after(async () => {
  await etcd?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('one master holds the key; a second node of the same epoch stays fenced', { skip }, async () => {
  const { client, ns } = connectEtcd({ hosts: [etcd.url], prefix: '/t1/' });
  const a = new Leadership(ns, timing, { node: 'A', url: 'http://a', epoch: () => 1 }, log);
  const b = new Leadership(ns, timing, { node: 'B', url: 'http://b', epoch: () => 1 }, log);
  a.start();
  await until('A to lead', () => a.holds());
  b.start();
  await until('B to have tried', () => /held by A/.test(b.refusal() ?? ''));
  assert.equal(b.holds(), false);
  assert.deepEqual((await readLeadership(ns)).leader, { epoch: 1, url: 'http://a', node: 'A', serving: true });
  await a.stop();
  await b.stop();
  client.close();
});

test('the lease lapses: the most caught-up replica wins the campaign with the next epoch; the old master stays fenced', { skip }, async (t) => {
  const { client, ns } = connectEtcd({ hosts: [etcd.url], prefix: '/t2/' });
  const master = new Leadership(ns, timing, { node: 'M', url: 'http://m', epoch: () => 3 }, log);
  const cleanup: Array<{ stop(): Promise<void> }> = [master];
  t.after(async () => {
    for (const c of cleanup) await c.stop();
    client.close();
  });
  master.start();
  await until('M to lead', () => master.holds());

  const elected: Array<{ id: string; epoch: number; lease: LeaseHolder }> = [];
  const leaders: Record<string, LeaderRecord[]> = { r1: [], r2: [] };
  const candidacy = (id: string, serial: number): Candidacy =>
    new Candidacy({
      ns,
      timing,
      log,
      settleMs: 300,
      self: { id, url: `http://${id}`, progress: () => ({ epoch: 3, serial }) },
      onLeader: (l) => leaders[id]!.push(l),
      onElected: (epoch, lease) => elected.push({ id, epoch, lease }),
    });
  const r1 = candidacy('r1', 40);
  const r2 = candidacy('r2', 42);
  cleanup.push(r1, r2);
  r1.start();
  r2.start();
  await until('both replicas to see M', () => leaders['r1']!.length > 0 && leaders['r2']!.length > 0);
  assert.equal(elected.length, 0, 'nobody campaigns while the master holds its lease');

  // the master dies without revoking: its permit ends before etcd expires the key
  const killedAt = performance.now();
  master.abandon();
  await until('a replica to be elected', () => elected.length > 0);
  const tookMs = performance.now() - killedAt;
  assert.deepEqual(elected.map((e) => [e.id, e.epoch]), [['r2', 4]]);
  assert.ok(tookMs >= timing.ttlMs * 0.9, `elected only after the lease lapsed (${Math.round(tookMs)} ms)`);
  assert.deepEqual((await readLeadership(ns)).epoch, 4);
  assert.equal((await readLeadership(ns)).leader?.serving, false, 'the winner is not serving yet (promoting)');
  assert.ok(!leaders['r1']!.some((l) => l.node === 'r2'), 'followers are not re-pointed before the winner serves');

  // the old master comes back: etcd's epoch is above its own
  const back = new Leadership(ns, timing, { node: 'M', url: 'http://m', epoch: () => 3 }, log);
  cleanup.push(back);
  back.start();
  await until('M to be superseded', () => /newer master was elected \(etcd epoch 4/.test(back.refusal() ?? ''), 10_000);
  assert.equal(back.holds(), false);

  // the winner's lease holds the key: handed to a Leadership, it leads
  const promoted = new Leadership(ns, timing, { node: 'r2', url: 'http://r2', epoch: () => 4 }, log);
  promoted.start(elected[0]!.lease);
  assert.equal(promoted.holds(), true);
  await until('r1 to follow r2 once it serves', () => leaders['r1']!.some((l) => l.node === 'r2' && l.epoch === 4 && l.serving));
  assert.equal((await ns.get(KEYS.candidates + 'r2').string()), null, 'the winner left the candidates');
  await promoted.stop();
  await until('the key to go with the revoked lease', async () => (await readLeadership(ns)).leader === undefined);
});

test('a permit runs out when etcd stops answering keepalives, before etcd could expire the lease', { skip }, async () => {
  const dir2 = await mkdtemp(join(tmpdir(), 'wh-etcd-test-'));
  const own = await startLocalEtcd(join(dir2, 'etcd'));
  const { client, ns } = connectEtcd({ hosts: [own.url], prefix: '/t3/' });
  const m = new Leadership(ns, timing, { node: 'M', url: 'http://m', epoch: () => 1 }, log);
  m.start();
  await until('M to lead', () => m.holds());
  const lease = (m as unknown as { lease: LeaseHolder }).lease;
  own.process.kill('SIGSTOP');
  const stoppedAt = performance.now();
  try {
    await until('the permit to end', () => !m.holds(), 10_000);
    const heldMs = performance.now() - stoppedAt;
    assert.ok(heldMs < timing.ttlMs, `fenced ${Math.round(heldMs)} ms after etcd froze, under the ${timing.ttlMs} ms TTL`);
    // the permit ends by time; the fence timer then marks the lease lost (a moment later under load)
    await until('the lease to be marked lost', () => lease.lost !== undefined, 5_000);
    assert.match(lease.lost ?? '', /fenced before etcd can expire it/);
  } finally {
    own.process.kill('SIGCONT');
    await m.stop();
    client.close();
    await own.stop();
    await rm(dir2, { recursive: true, force: true });
  }
});
