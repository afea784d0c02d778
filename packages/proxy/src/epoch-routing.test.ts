import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backend, BackendPool } from './backends.js';
import { DEFAULT_HEALTH_POLICY } from './policy.js';
import { parseEpochHeader } from './read-your-writes.js';

const NOW = 1_000_000;

function cluster(): { pool: BackendPool; master: Backend; r1: Backend; r2: Backend } {
  const master = new Backend('master', 'http://m', 'master');
  const r1 = new Backend('replica1', 'http://r1', 'replica');
  const r2 = new Backend('replica2', 'http://r2', 'replica');
  return { pool: new BackendPool([master, r1, r2], DEFAULT_HEALTH_POLICY), master, r1, r2 };
}

test('before any node announced an epoch, writes go to the configured master', () => {
  const { pool, master } = cluster();
  assert.equal(pool.highestEpoch, 0);
  assert.equal(pool.pickWrite(NOW), master);
});

test('after a promotion, writes go to the announced master of the highest epoch, never to a lower-epoch or fenced node', () => {
  const { pool, master, r1, r2 } = cluster();
  master.noteEpoch(1, 'master');
  r1.noteEpoch(1, 'replica');
  r2.noteEpoch(1, 'replica');
  assert.equal(pool.pickWrite(NOW), master);
  // replica1 promoted: it answers as the master of epoch 2
  r1.noteEpoch(2, 'master');
  assert.equal(pool.highestEpoch, 2);
  assert.equal(pool.pickWrite(NOW), r1);
  assert.equal(pool.leader, r1);
  // the old master comes back still saying it is master of epoch 1: it gets no write
  r1.up = false;
  assert.equal(pool.pickWrite(NOW), undefined, 'the new master down: writes wait (503), they do not fall back to the old one');
  r1.up = true;
  master.noteEpoch(1, 'fenced');
  assert.equal(pool.pickWrite(NOW), r1);
});

test('a configured master that announced a lower epoch than seen elsewhere gets no write', () => {
  const { pool, master, r1 } = cluster();
  master.noteEpoch(1, 'master');
  r1.noteEpoch(2, 'replica'); // a replica of the new term, its master not announced yet
  assert.equal(pool.pickWrite(NOW), undefined);
});

test('epoch headers are parsed strictly', () => {
  assert.equal(parseEpochHeader('2'), 2);
  assert.equal(parseEpochHeader(undefined), undefined);
  assert.equal(parseEpochHeader('0'), undefined);
  assert.equal(parseEpochHeader('x'), undefined);
});
