import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Changelog } from '@wheelhouse/changelog';
import { pino } from 'pino';
import { writeEpoch } from '@wheelhouse/replication';
import { statusOf } from '@wheelhouse/http';
import { FENCE_META, Fence } from './fence.js';

const silent = pino({ level: 'silent' });

async function masterStore(): Promise<Changelog> {
  const c = await Changelog.openInMemory();
  await c.write((tx) => writeEpoch(tx, { epoch: 1, uuid: c.uuid, url: '', serial: tx.serial, at: tx.at }));
  return c;
}

describe('fence', () => {
  it('claims of the same or a lower epoch change nothing; a higher one fences, and every local write is refused with 503 EFENCED', async () => {
    const c = await masterStore();
    const fence = new Fence(c, silent);
    assert.equal(fence.observe(1, 'peer'), false);
    assert.equal(fence.observe(undefined, 'peer'), false);
    await c.write((tx) => tx.set('a', 1));
    assert.equal(fence.observe(2, 'replica http://r1'), true);
    const head = c.head;
    await assert.rejects(c.write((tx) => tx.set('b', 2)), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'EFENCED');
      assert.equal(statusOf(err), 503);
      assert.match(err.message, /^fenced: epoch 1 superseded by 2 \(learned from replica http:\/\/r1/);
      return true;
    });
    assert.equal(c.head, head, 'nothing committed');
    // the replica path is not guarded (a rejoined store applies the new master's records)
    assert.equal(await c.apply({ serial: head + 1, at: 0, changes: [{ key: 'c', value: 3 }] }), true);
    fence.stop();
    await c.close();
  });

  it('is durable: a master built again on the same store stays fenced, until the store itself reaches that epoch', async () => {
    const c = await masterStore();
    const first = new Fence(c, silent);
    first.observe(3, 'proxy');
    await c.setMeta('flush', 'x'); // queued behind the fence's own setMeta
    first.stop();
    assert.equal(JSON.parse(c.getMeta(FENCE_META)!).supersededBy, 3);
    const again = new Fence(c, silent);
    assert.equal(again.fenced()?.supersededBy, 3);
    await assert.rejects(c.write((tx) => tx.set('x', 1)), /fenced: epoch 1 superseded by 3/);
    again.stop();
    // the store followed the new master up to epoch 3 (rejoined without re-cloning): the fence is over
    await c.apply({ serial: c.head + 1, at: 0, changes: [{ key: '+epoch/3', value: { epoch: 3, uuid: 'n', url: '', serial: c.head + 1, at: 0 } }] });
    const rejoined = new Fence(c, silent);
    assert.equal(rejoined.fenced(), undefined);
    await c.write((tx) => tx.set('x', 1));
    rejoined.stop();
    await c.close();
  });

  it('holds writes with a 503 while the start-up probe runs', async () => {
    const c = await masterStore();
    const fence = new Fence(c, silent);
    fence.setProbing('asking peers');
    await assert.rejects(c.write((tx) => tx.set('x', 1)), (err: Error & { code?: string }) => err.code === 'EUNAVAILABLE');
    fence.setProbing(undefined);
    await c.write((tx) => tx.set('x', 1));
    fence.stop();
    await c.close();
  });
});
