import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Changelog } from '@wheelhouse/changelog';
import { NotReplicatedError } from '@wheelhouse/core';
import { ERROR_STATUS } from '@wheelhouse/http';
import { SYNC_REPLICAS_META, SYNC_TRANSFER_FLOOR_BYTES_PER_S, SyncReplication } from './sync-replication.js';

/** A pending promise's state without waiting for it. */
async function settled(p: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  const marker = Symbol('pending');
  const outcome = await Promise.race([p.then(() => 'resolved' as const, () => 'rejected' as const), new Promise((r) => setImmediate(() => r(marker)))]);
  return outcome === marker ? 'pending' : (outcome as 'resolved' | 'rejected');
}

describe('sync replication (acknowledged means replicated)', () => {
  it('a write waits for N of M replicas: released by the N-th confirmation of its serial, not before', async () => {
    let head = 7;
    const sync = new SyncReplication({ replicas: 2, head: () => head, timeoutMs: 10_000 });
    const write = sync.waitReplicated(7);
    sync.ack('a', 7);
    sync.ack('b', 6); // an older serial does not count for serial 7
    assert.equal(await settled(write), 'pending', 'one confirmation of 7 is not two');
    sync.ack('c', 9);
    assert.equal(await settled(write), 'resolved');
    assert.equal(sync.stats()['quorum-serial'], 7);
    // a serial the quorum already confirmed answers at once
    head = 9;
    assert.equal(await settled(sync.waitReplicated(6)), 'resolved');
    assert.equal(await settled(sync.waitReplicated(8)), 'pending');
    sync.close();
  });

  it('too few confirmations within the timeout: NotReplicatedError, a 503 that says the record is committed', async () => {
    const sync = new SyncReplication({ replicas: 1, head: () => 3, timeoutMs: 30 });
    sync.ack('a', 2);
    const err = await sync.waitReplicated(3).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof NotReplicatedError, `expected NotReplicatedError, got ${String(err)}`);
    assert.equal(ERROR_STATUS[err.code], 503);
    assert.equal(err.serial, 3);
    assert.equal(err.headers['X-Devpi-Serial'], '3');
    assert.match(err.message, /committed on the master.*0 of the 1 required/);
    assert.equal(sync.timeouts, 1);
    assert.equal(sync.degradedWrites, 0);
  });

  it('a write that stored a release file waits longer by its transfer time at the floor rate, and says so when it times out', async () => {
    const sync = new SyncReplication({ replicas: 1, head: () => 4, timeoutMs: 20 });
    const big = sync.waitReplicated(4, SYNC_TRANSFER_FLOOR_BYTES_PER_S); // one second more
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(await settled(big), 'pending', 'past --sync-timeout, within the transfer allowance');
    sync.ack('a', 4);
    assert.equal(await settled(big), 'resolved');
    const small = await sync.waitReplicated(5, 1024).then(() => undefined, (e: unknown) => e);
    assert.ok(small instanceof NotReplicatedError);
    assert.match(small.message, /within 21 ms \(--sync-timeout 20 ms \+ 1 ms for its 1024-byte file\)/);
  });

  it('--sync-degrade: a timeout answers anyway and counts; later writes answer at once until the replicas catch up', async () => {
    let head = 5;
    const sync = new SyncReplication({ replicas: 1, head: () => head, timeoutMs: 30, degrade: true, connected: () => 1 });
    sync.ack('a', 4);
    const started = Date.now();
    await sync.waitReplicated(5);
    assert.ok(Date.now() - started >= 25, 'the first write waited for the timeout');
    assert.equal(sync.timeouts, 1);
    assert.equal(sync.stats().degraded, true);
    head = 6;
    const quick = Date.now();
    await sync.waitReplicated(6);
    assert.ok(Date.now() - quick < 25, 'while degraded a write does not wait');
    assert.equal(sync.degradedWrites, 2);
    // the replica catches up with the head: writes wait for it again
    sync.ack('a', 6);
    assert.equal(sync.stats().degraded, false);
    head = 7;
    const write = sync.waitReplicated(7);
    assert.equal(await settled(write), 'pending');
    sync.ack('a', 7);
    assert.equal(await settled(write), 'resolved');
    assert.equal(sync.degradedWrites, 2);
  });

  it('--sync-degrade with fewer than N replicas connected answers at once (counted)', async () => {
    const sync = new SyncReplication({ replicas: 2, head: () => 1, timeoutMs: 10_000, degrade: true, connected: () => 1 });
    sync.ack('a', 0);
    await sync.waitReplicated(1);
    assert.equal(sync.degradedWrites, 1);
    assert.equal(sync.timeouts, 0);
  });

  it('default N: 0 until a replica confirmed, then 1 — recorded in the store meta, so it holds after a restart, until it expires', async () => {
    const store = await Changelog.openInMemory();
    let now = 1_000_000;
    const options = { head: () => store.head, meta: store, expiryMs: 60_000, timeoutMs: 20, now: () => now };
    const first = new SyncReplication(options);
    assert.equal(first.required(), 0);
    await first.waitReplicated(0); // nothing to wait for: asynchronous
    first.ack('replica-1', -1);
    assert.equal(first.required(), 1);
    await new Promise((r) => setImmediate(r)); // the meta write is queued behind pending writes
    assert.deepEqual(Object.keys(JSON.parse(store.getMeta(SYNC_REPLICAS_META) ?? '{}')), ['replica-1']);
    // the master restarts: the replica has not reconnected yet, but writes already wait for it
    const restarted = new SyncReplication(options);
    assert.equal(restarted.required(), 1);
    await assert.rejects(restarted.waitReplicated(0), NotReplicatedError);
    now += 60_001;
    assert.equal(new SyncReplication(options).required(), 0, 'a replica silent for longer than the expiry no longer counts');
    // an explicit setting is taken as given
    assert.equal(new SyncReplication({ ...options, replicas: 0 }).required(), 0);
    assert.equal(new SyncReplication({ ...options, replicas: 3 }).required(), 3);
    await store.close();
  });
});
