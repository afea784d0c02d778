import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advanceMark, advanceWriteMark, mayServeRead, NO_SERIAL, serialFromHeaders } from './read-your-writes.js';

test('the mark keeps the highest serial per master UUID; a new UUID restarts it, even lower', () => {
  let m = advanceMark(NO_SERIAL, 5, 'a');
  assert.deepEqual(m, { serial: 5, masterUuid: 'a' });
  m = advanceMark(m, 3, 'a');
  assert.deepEqual(m, { serial: 5, masterUuid: 'a' }, 'a lower serial of the same master is older news');
  m = advanceMark(m, 7);
  assert.deepEqual(m, { serial: 7, masterUuid: 'a' }, 'an answer without UUID counts in the known one');
  m = advanceMark(m, 2, 'b');
  assert.deepEqual(m, { serial: 2, masterUuid: 'b' });
  assert.equal(advanceMark(m, Number.NaN, 'c'), m, 'no serial header: nothing changes, not even the UUID');
  assert.equal(advanceMark(m, 1.5, 'b'), m);
});

test('only successful write answers raise the write mark', () => {
  const seen = { serial: 9, masterUuid: 'a' };
  assert.deepEqual(advanceWriteMark(NO_SERIAL, 200, seen), seen);
  assert.deepEqual(advanceWriteMark(NO_SERIAL, 302, seen), seen);
  assert.equal(advanceWriteMark(NO_SERIAL, 400, seen), NO_SERIAL);
  assert.equal(advanceWriteMark(NO_SERIAL, 500, seen), NO_SERIAL);
});

test('the serial and master UUID come from X-Devpi-Serial and X-Devpi-Master-UUID', () => {
  assert.deepEqual(serialFromHeaders({ 'x-devpi-serial': '42', 'x-devpi-master-uuid': 'u' }), { serial: 42, masterUuid: 'u' });
  const none = serialFromHeaders({});
  assert.ok(Number.isNaN(none.serial));
  assert.equal(none.masterUuid, '');
});

test('which backends may serve a read that must see a write', () => {
  const required = { serial: 10, masterUuid: 'a' };
  const rows: Array<[role: 'master' | 'replica', serial: number, uuid: string, req: typeof required, ok: boolean]> = [
    ['master', -1, '', required, true],
    ['replica', -1, '', NO_SERIAL, true],
    ['replica', 9, 'a', required, false],
    ['replica', 10, 'a', required, true],
    ['replica', 11, 'a', required, true],
    ['replica', 99, 'b', required, false],
    ['replica', 10, '', required, false],
    ['replica', 10, 'b', { serial: 10, masterUuid: '' }, true],
    ['replica', 9, 'b', { serial: 10, masterUuid: '' }, false],
  ];
  for (const [role, serial, masterUuid, req, ok] of rows) {
    assert.equal(mayServeRead({ role, serial, masterUuid }, req), ok, `${role} at ${serial}/${masterUuid || '?'} for ${req.serial}/${req.masterUuid || '?'}`);
  }
});
