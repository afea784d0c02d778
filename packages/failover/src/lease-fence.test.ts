import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeasePermit, etcdTtlSeconds, fenceDeadline, keepaliveIntervalMs, leaseTiming } from './lease-fence.js';

test('the permit ends before the lease can: ttl × (1 − drift) − margin after the SEND time', () => {
  const timing = { ttlMs: 5_000, driftRate: 0.02, marginMs: 500 };
  assert.equal(fenceDeadline(1_000, timing), 1_000 + 4_900 - 500);
  // a faster local clock would see the lease end at sentAt + ttl × (1 − drift) at the earliest: the permit is shorter
  assert.ok(fenceDeadline(0, timing) < 5_000 * (1 - timing.driftRate));
});

test('a timing whose margin and drift eat the whole TTL is refused', () => {
  assert.throws(() => fenceDeadline(0, { ttlMs: 1_000, driftRate: 0.5, marginMs: 500 }), RangeError);
});

test('keepalives go out three times per TTL, and etcd gets whole seconds', () => {
  assert.equal(keepaliveIntervalMs(leaseTiming(6_000)), 2_000);
  assert.equal(etcdTtlSeconds(5_000), 5);
  assert.equal(etcdTtlSeconds(2_500), 3);
  assert.equal(etcdTtlSeconds(1), 1);
});

test('a permit holds from a renewal to its deadline, never from a late answer of an old send', () => {
  const permit = new LeasePermit({ ttlMs: 3_000, driftRate: 0, marginMs: 0 });
  assert.equal(permit.holds(0), false, 'no permit before the grant was answered');
  permit.renewed(100);
  assert.equal(permit.holds(3_099), true);
  assert.equal(permit.holds(3_100), false);
  // an answer to an older send (arriving late) does not move the deadline back
  permit.renewed(50);
  assert.equal(permit.holds(3_099), true);
  permit.renewed(2_000);
  assert.equal(permit.holds(4_999), true);
  permit.end();
  assert.equal(permit.holds(2_001), false);
});
