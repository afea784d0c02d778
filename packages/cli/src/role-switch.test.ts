import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createMasterApp, initDatadir } from '@wheelhouse/master';
import { createReplicaApp } from '@wheelhouse/replica';
import { waitFor } from '@wheelhouse/testing';
import { switchToMaster } from './role-switch.js';

const logger = pino({ level: 'silent' });
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

it('switchToMaster turns a running replica into the master of the next epoch on the same port; a refusal leaves it running as replica', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'wh-switch-'));
  dirs.push(root);
  const mdir = join(root, 'master');
  await initDatadir({ datadir: mdir, noRootPypi: true });
  const master = await createMasterApp({ datadir: mdir, host: '127.0.0.1', port: 0, maxFileBytes: 1024, syncCommits: false, logger, peerProbeMs: 0 });
  const mport = await master.listen();
  await master.changelog.write((tx) => tx.set('test/x', { x: 1 }));
  const replicaConfig = { datadir: join(root, 'replica'), host: '127.0.0.1', port: 0, masterUrl: `http://127.0.0.1:${mport}`, secretFile: join(mdir, 'secret'), logger };
  const replica = await createReplicaApp(replicaConfig);
  const port = await replica.listen();
  await waitFor(() => replica.changelog.head === master.changelog.head, { what: 'replica caught up', timeoutMs: 20_000 });
  const head = master.changelog.head;
  await master.close();

  // refused (the caller says serial head+1 was acknowledged): the replica runs again on its port
  const refused = await switchToMaster({ replica, replicaConfig, port, promote: { masterUrl: '', acknowledgedSerial: head + 1 } }).catch((err: Error & { replica?: Awaited<ReturnType<typeof createReplicaApp>> }) => err);
  assert.ok(refused instanceof Error && refused.name === 'PromotionRefusedError', String(refused));
  const again = refused.replica!;
  const st1 = await (await fetch(`http://127.0.0.1:${port}/+status`, { headers: { accept: 'application/json' } })).json() as { result: { role: string } };
  assert.equal(st1.result.role, 'REPLICA');

  const { master: promoted, promotion } = await switchToMaster({ replica: again, replicaConfig: { ...replicaConfig, port }, port, promote: { masterUrl: '', acknowledgedSerial: head } });
  try {
    assert.equal(promotion.epoch, 2);
    assert.equal(promotion.serial, head + 1);
    const res = await fetch(`http://127.0.0.1:${port}/+status`, { headers: { accept: 'application/json' } });
    assert.equal(res.headers.get('x-wheelhouse-epoch'), '2');
    assert.equal(res.headers.get('x-wheelhouse-role'), 'master');
    const st = (await res.json()) as { result: { role: string; epoch: number; fenced: unknown } };
    assert.equal(st.result.role, 'MASTER');
    assert.equal(st.result.epoch, 2);
    assert.equal(st.result.fenced, false);
    assert.deepEqual(promoted.changelog.get('test/x'), { x: 1 });
    await promoted.changelog.write((tx) => tx.set('test/y', { y: 2 }));
  } finally {
    await promoted.close();
  }
});
