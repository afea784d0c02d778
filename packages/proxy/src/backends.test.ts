import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backend, BackendPool, isReadMethod } from './backends.js';
import { DEFAULT_HEALTH_POLICY, type HealthPolicy } from './policy.js';
import { NO_SERIAL } from './read-your-writes.js';

const POLICY: HealthPolicy = { ...DEFAULT_HEALTH_POLICY, maxFails: 2, ejectMs: 1_000, maxEjectMs: 5_000, rise: 2, fall: 2 };
const NOW = 1_000_000;

function cluster(replicas = 2): { pool: BackendPool; master: Backend; r: Backend[] } {
  const master = new Backend('master', 'http://m', 'master');
  const r = Array.from({ length: replicas }, (_, i) => new Backend(`replica${i + 1}`, `http://r${i + 1}`, 'replica'));
  return { pool: new BackendPool([master, ...r], POLICY), master, r };
}

test('reads go to replicas before the master, the one with fewest outstanding requests first', () => {
  const { pool, master, r } = cluster();
  r[0]!.outstanding = 3;
  r[1]!.outstanding = 1;
  master.outstanding = 0;
  assert.equal(pool.pickRead(NO_SERIAL, new Set(), NOW), r[1]);
  r[1]!.outstanding = 5;
  assert.equal(pool.pickRead(NO_SERIAL, new Set(), NOW), r[0]);
  assert.equal(pool.pickRead(NO_SERIAL, new Set([r[0]!]), NOW), r[1], 'an excluded (already tried) backend is skipped');
});

test('the master serves reads when no replica is usable, and nothing does when it is not either', () => {
  const { pool, master, r } = cluster();
  r[0]!.up = false;
  r[1]!.draining = true;
  assert.equal(pool.pickRead(NO_SERIAL, new Set(), NOW), master);
  master.ejectedUntil = NOW + 1;
  assert.equal(pool.pickRead(NO_SERIAL, new Set(), NOW), undefined);
  assert.equal(pool.pickRead(NO_SERIAL, new Set(), NOW + 1), master, 'ejection ends at ejectedUntil');
});

test('writes go to the master only, and to nobody while it is drained or down', () => {
  const { pool, master } = cluster();
  assert.equal(pool.pickWrite(NOW), master);
  master.draining = true;
  assert.equal(pool.pickWrite(NOW), undefined);
  master.draining = false;
  master.up = false;
  assert.equal(pool.pickWrite(NOW), undefined);
  assert.equal(new BackendPool([new Backend('replica1', 'http://r', 'replica')], POLICY).pickWrite(NOW), undefined);
});

test('a drained backend gets no new reads and is back in rotation when undrained', () => {
  const { pool, r } = cluster(1);
  r[0]!.draining = true;
  assert.equal(pool.pickRead(NO_SERIAL, new Set(), NOW)?.name, 'master');
  r[0]!.draining = false;
  assert.equal(pool.pickRead(NO_SERIAL, new Set(), NOW), r[0]);
  assert.equal(pool.byName('replica1'), r[0]);
  assert.equal(pool.byName('replica9'), undefined);
});

test('maxFails consecutive failures eject a backend; a success in between resets the count', () => {
  const { pool, r } = cluster();
  const b = r[0]!;
  assert.equal(pool.noteFailure(b, NOW), false);
  pool.noteSuccess(b);
  assert.equal(pool.noteFailure(b, NOW), false, 'the success reset the count');
  assert.equal(pool.noteFailure(b, NOW), true);
  assert.equal(b.ejectedUntil, NOW + POLICY.ejectMs);
  assert.equal(b.usable(NOW), false);
  assert.equal(pool.noteFailure(b, NOW + 10), false, 'no second ejection while ejected');
  assert.equal(pool.noteFailure(b, NOW + 20), false);
});

test('each ejection lasts twice the one before, up to maxEjectMs', () => {
  const { pool, r } = cluster();
  const b = r[0]!;
  const lengths: number[] = [];
  let now = NOW;
  for (let i = 0; i < 5; i++) {
    pool.noteFailure(b, now);
    assert.equal(pool.noteFailure(b, now), true);
    lengths.push(b.ejectedUntil - now);
    now = b.ejectedUntil;
  }
  assert.deepEqual(lengths, [1_000, 2_000, 4_000, 5_000, 5_000]);
});

test('the last backend able to serve reads is never ejected', () => {
  const { pool, master, r } = cluster(1);
  r[0]!.up = false;
  for (let i = 0; i < 5; i++) assert.equal(pool.noteFailure(master, NOW), false);
  assert.equal(master.usable(NOW), true);
  r[0]!.up = true;
  assert.equal(pool.noteFailure(master, NOW), true, 'with another usable backend it is');
});

test('noteVerdict applies the ejection rule: success resets, failure counts, down takes the backend out at once', () => {
  const { pool, r } = cluster();
  const b = r[0]!;
  pool.noteVerdict(b, 'failure', NOW);
  assert.equal(b.requestFails, 1);
  pool.noteVerdict(b, 'success', NOW);
  assert.equal(b.requestFails, 0);
  pool.noteVerdict(b, 'down', NOW);
  assert.equal(b.up, false);
});

test('active checks: fall failed checks take a backend down and cancel its pending reads; rise good ones bring it back, ejection cleared', () => {
  const { pool, r } = cluster();
  const b = r[0]!;
  const inFlight = new AbortController();
  b.pending.add(inFlight);
  assert.equal(pool.noteCheck(b, false, NOW), true, 'one failed check is not enough');
  assert.equal(inFlight.signal.aborted, false);
  assert.equal(pool.noteCheck(b, false, NOW + 1), false);
  assert.equal(inFlight.signal.aborted, true);
  assert.equal(b.pending.size, 0);
  assert.equal(b.lastCheck, NOW + 1);
  b.ejections = 3;
  b.ejectedUntil = NOW + 60_000;
  assert.equal(pool.noteCheck(b, true, NOW + 2), false, 'one good check is not enough');
  assert.equal(pool.noteCheck(b, false, NOW + 3), false, 'a failure restarts the rise count');
  assert.equal(pool.noteCheck(b, true, NOW + 4), false);
  assert.equal(pool.noteCheck(b, true, NOW + 5), true);
  assert.equal(b.ejections, 0);
  assert.equal(b.usable(NOW + 5), true);
});

test('read-your-writes: a replica serves a read only once it reached the write mark in the same master UUID', () => {
  const { pool, master, r } = cluster(1);
  const replica = r[0]!;
  replica.noteSerial(10, 'uuid-a');
  pool.noteWriteAnswer(200, { serial: 12, masterUuid: 'uuid-a' });
  assert.equal(pool.pickRead(pool.writeMark, new Set(), NOW), master, 'the replica is behind');
  replica.noteSerial(12, 'uuid-a');
  assert.equal(pool.pickRead(pool.writeMark, new Set(), NOW), replica);
  pool.noteWriteAnswer(201, { serial: 3, masterUuid: 'uuid-b' });
  assert.deepEqual(pool.writeMark, { serial: 3, masterUuid: 'uuid-b' }, 'a new master UUID restarts the mark');
  assert.equal(pool.pickRead(pool.writeMark, new Set(), NOW), master, 'serial 12 of the old master does not count');
  pool.noteWriteAnswer(403, { serial: 50, masterUuid: 'uuid-b' });
  assert.equal(pool.writeMark.serial, 3, 'a refused write committed nothing');
});

test('reads are GET and HEAD; everything else is a write', () => {
  assert.deepEqual(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', undefined].map(isReadMethod), [true, true, false, false, false, false, false]);
});
