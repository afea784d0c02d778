import { test } from 'node:test';
import assert from 'node:assert/strict';
import { notYet, waitFor, WaitTimeoutError } from './wait-for.js';

test('waitFor resolves with the first value that is not false/undefined/null/notYet', async () => {
  let n = 0;
  const v = await waitFor(() => (++n < 3 ? notYet(`n=${n}`) : n), { what: 'n to reach 3', timeoutMs: 2_000, intervalMs: 1 });
  assert.equal(v, 3);
  assert.equal(await waitFor(() => true, { what: 'true', timeoutMs: 10 }), true);
});

test('waitFor counts a throwing predicate as not yet', async () => {
  let n = 0;
  const v = await waitFor(() => {
    if (++n < 2) throw new Error('refused');
    return 'up';
  }, { what: 'a node to answer', timeoutMs: 2_000, intervalMs: 1 });
  assert.equal(v, 'up');
});

test('waitFor times out with what it waited for and the last state seen', async () => {
  await assert.rejects(
    waitFor(() => notYet('serial 4 of 9'), { what: 'replica1 to reach serial 9', timeoutMs: 30, intervalMs: 5 }),
    (err: unknown) => {
      assert.ok(err instanceof WaitTimeoutError);
      assert.equal(err.code, 'WAIT_TIMEOUT');
      assert.match(err.message, /timed out after 30 ms waiting for replica1 to reach serial 9; last seen: serial 4 of 9/);
      return true;
    },
  );
  await assert.rejects(waitFor(() => { throw new Error('ECONNREFUSED'); }, { what: 'x', timeoutMs: 10, intervalMs: 5 }), /last seen: error: ECONNREFUSED/);
  await assert.rejects(waitFor(() => false, { what: 'x', timeoutMs: 10, intervalMs: 5 }), /last seen: false/);
});
