import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Changelog } from '@wheelhouse/changelog';
import { currentEpoch, epochHistory, writeEpoch } from '@wheelhouse/replication';
import { PromotionRefusedError, promoteDatadir } from './promote.js';

const dirs: string[] = [];
const servers: Server[] = [];
after(async () => {
  for (const s of servers) s.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A stopped replica's data directory with serials 0..head, following `masterUrl`. */
async function replicaDir(head: number, masterUrl: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wh-promote-'));
  dirs.push(dir);
  const c = await Changelog.open({ location: join(dir, 'db'), create: true });
  await c.write((tx) => writeEpoch(tx, { epoch: 1, uuid: 'old-master', url: masterUrl, serial: tx.serial, at: tx.at }));
  for (let s = 1; s <= head; s++) await c.write((tx) => tx.set(`test/${s}`, { s }));
  await c.setMeta('master-url', masterUrl);
  await c.close();
  return dir;
}

/** A node answering `/+status` with `result` (and its epoch header). */
async function statusServer(result: Record<string, unknown>): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-wheelhouse-epoch': String(result['epoch'] ?? 1) });
    res.end(JSON.stringify({ type: 'status', result }));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
}

const DEAD = 'http://127.0.0.1:9'; // discard port: connection refused

async function epochOf(dir: string): Promise<{ epoch: number; head: number; last: ReturnType<typeof epochHistory>[number] }> {
  const c = await Changelog.open({ location: join(dir, 'db') });
  try {
    const h = epochHistory(c);
    return { epoch: currentEpoch(c), head: c.head, last: h[h.length - 1]! };
  } finally {
    await c.close();
  }
}

describe('promoteDatadir', () => {
  it('is refused while behind what a witness saw committed, naming the missing serials, and changes nothing', async () => {
    const dir = await replicaDir(5, DEAD);
    const proxy = await statusServer({ role: 'PROXY', 'write-serial': 7, backends: [{ role: 'master', serial: 6 }] });
    await assert.rejects(promoteDatadir({ datadir: dir, peers: [proxy], timeoutMs: 1_000 }), (err: unknown) => {
      assert.ok(err instanceof PromotionRefusedError);
      assert.deepEqual(err.missing, [6, 7]);
      assert.match(err.reason, /behind: its head is serial 5 but serial 7 was committed/);
      return true;
    });
    assert.deepEqual(await epochOf(dir).then((e) => [e.epoch, e.head]), [1, 5]);
  });

  it('is allowed once caught up: the next epoch record follows the head, naming this store', async () => {
    const dir = await replicaDir(7, DEAD);
    const replica2 = await statusServer({ role: 'REPLICA', serial: 6, 'master-serial': 7 });
    const r = await promoteDatadir({ datadir: dir, peers: [replica2], outsideUrl: 'http://new-master', timeoutMs: 1_000 });
    assert.equal(r.epoch, 2);
    assert.equal(r.serial, 8);
    assert.deepEqual(r.missing, []);
    const e = await epochOf(dir);
    assert.equal(e.epoch, 2);
    assert.equal(e.last.serial, 8);
    assert.equal(e.last.url, 'http://new-master');
    assert.equal(e.last.uuid, r.uuid);
    assert.equal(e.last.forced, undefined);
  });

  it('is refused when no witness can tell, and with force promotes saying so', async () => {
    const dir = await replicaDir(3, DEAD);
    await assert.rejects(promoteDatadir({ datadir: dir, timeoutMs: 500 }), /no witness could tell/);
    const r = await promoteDatadir({ datadir: dir, force: true, timeoutMs: 500 });
    assert.equal(r.unconfirmed, true);
    assert.equal((await epochOf(dir)).last.forced, true);
  });

  it('is refused while the old master still answers unfenced (two masters), allowed once it is fenced', async () => {
    const alive = await statusServer({ role: 'MASTER', serial: 3, epoch: 1, fenced: false });
    const dir = await replicaDir(3, alive);
    await assert.rejects(promoteDatadir({ datadir: dir, timeoutMs: 1_000 }), /still answers and is not fenced/);
    const fenced = await statusServer({ role: 'MASTER', serial: 3, epoch: 1, fenced: { supersededBy: 2 } });
    const r = await promoteDatadir({ datadir: dir, masterUrl: fenced, timeoutMs: 1_000 });
    assert.equal(r.epoch, 2);
  });

  it('takes the acknowledged serial a caller knows (automatic failover) instead of asking peers', async () => {
    const dir = await replicaDir(4, '');
    await assert.rejects(promoteDatadir({ datadir: dir, masterUrl: '', acknowledgedSerial: 5 }), (err: unknown) => err instanceof PromotionRefusedError && err.missing.join() === '5');
    const r = await promoteDatadir({ datadir: dir, masterUrl: '', acknowledgedSerial: 4 });
    assert.equal(r.epoch, 2);
  });
});
