import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statusOf } from '@wheelhouse/http';
import { LoginThrottle } from './login-throttle.js';
import { TooManyRequestsError } from '../errors.js';

const T0 = 1_700_000_000_000;

/** The refusal `admit` throws (asserting it throws a 429 with Retry-After), or undefined when admitted. */
function refusal(throttle: LoginThrottle, user: string, address: string, now: number): TooManyRequestsError | undefined {
  try {
    throttle.admit(user, address, now);
    return undefined;
  } catch (err) {
    assert.ok(err instanceof TooManyRequestsError, String(err));
    assert.equal(statusOf(err), 429);
    assert.equal(err.headers['Retry-After'], String(err.retryAfterSeconds));
    return err;
  }
}

test('after the free failures, waits double from the base delay up to the cap, named in Retry-After and the message', () => {
  const throttle = new LoginThrottle({ freeFailures: 3, baseDelayMs: 1_000, maxDelayMs: 8_000 });
  for (let i = 0; i < 3; i++) {
    assert.equal(refusal(throttle, 'alice', '10.0.0.1', T0), undefined, `free failure ${i + 1} is admitted`);
    throttle.failed('alice', '10.0.0.1', true, T0);
  }
  assert.equal(refusal(throttle, 'alice', '10.0.0.1', T0), undefined, 'three failures: still no wait');
  const waits: number[] = [];
  let now = T0;
  for (let i = 0; i < 5; i++) {
    throttle.failed('alice', '10.0.0.1', true, now);
    const err = refusal(throttle, 'alice', '10.0.0.1', now);
    assert.ok(err, `failure ${i + 4} sets a wait`);
    assert.match(err.message, /too many failed logins from 10\.0\.0\.1; retry in \d+ s/);
    waits.push(err.retryAfterSeconds);
    now += err.retryAfterSeconds * 1000;
    assert.equal(refusal(throttle, 'alice', '10.0.0.1', now), undefined, 'admitted once the wait is over');
  }
  assert.deepEqual(waits, [1, 2, 4, 8, 8]);
});

test("a user's wait refuses unknown addresses, not one that gave the user's password before; other users and addresses are unaffected", () => {
  const throttle = new LoginThrottle({ freeFailures: 2 });
  throttle.succeeded('alice', '192.0.2.7'); // alice's own machine logged in earlier
  // an attacker spreads guesses for alice over many addresses: each address stays under its limit
  for (let i = 0; i < 6; i++) throttle.failed('alice', `198.51.100.${i}`, true, T0);
  assert.match(refusal(throttle, 'alice', '198.51.100.99', T0)?.message ?? '', /too many failed logins for user 'alice'/);
  assert.equal(refusal(throttle, 'alice', '192.0.2.7', T0), undefined, "alice's known address is not locked out");
  assert.equal(refusal(throttle, 'bob', '198.51.100.99', T0), undefined, 'another user is unaffected');
});

test('a correct password resets the counters of the user and the address', () => {
  const throttle = new LoginThrottle({ freeFailures: 2 });
  for (let i = 0; i < 4; i++) throttle.failed('alice', '10.0.0.1', true, T0);
  assert.ok(refusal(throttle, 'alice', '10.0.0.1', T0));
  throttle.succeeded('alice', '10.0.0.1');
  assert.equal(refusal(throttle, 'alice', '10.0.0.1', T0), undefined);
  throttle.failed('alice', '10.0.0.1', true, T0);
  assert.equal(refusal(throttle, 'alice', '10.0.0.1', T0), undefined, 'the free failures are granted again');
});

test('failures for an unknown user count against the address only', () => {
  const throttle = new LoginThrottle({ freeFailures: 1 });
  throttle.failed('nobody', '10.0.0.1', false, T0);
  throttle.failed('nobody', '10.0.0.1', false, T0);
  assert.deepEqual(throttle.size, { users: 0, addresses: 1, known: 0 });
  assert.ok(refusal(throttle, 'nobody', '10.0.0.1', T0));
});

test('memory stays bounded: a spray over 100,000 addresses and users keeps at most maxEntries counters', () => {
  const throttle = new LoginThrottle({ maxEntries: 1_000 });
  for (let i = 0; i < 100_000; i++) throttle.failed(`user${i}`, `2001:db8::${i.toString(16)}`, true, T0);
  const size = throttle.size;
  assert.ok(size.users <= 1_000 && size.addresses <= 1_000, JSON.stringify(size));
  // the most recent counters are the ones kept
  for (let i = 0; i < 10; i++) throttle.failed('user99999', 'x', true, T0);
  assert.ok(refusal(throttle, 'user99999', 'y', T0), 'a recent counter still applies');
});

test('a known pair is spared an address wait (a shared NAT) but stops being known after freeFailures wrong passwords from it', () => {
  const throttle = new LoginThrottle({ freeFailures: 3 });
  throttle.succeeded('alice', '10.0.0.1');
  for (let i = 0; i < 5; i++) throttle.failed('mallory', '10.0.0.1', true, T0);
  assert.ok(refusal(throttle, 'bob', '10.0.0.1', T0), 'the address waits');
  assert.equal(refusal(throttle, 'alice', '10.0.0.1', T0), undefined, 'alice, known there, does not');
  for (let i = 0; i < 3; i++) throttle.failed('alice', '10.0.0.1', true, T0);
  assert.ok(refusal(throttle, 'alice', '10.0.0.1', T0), 'guessing from a known pair ends its exemption');
});

test('correct passwords of different users checked in parallel from one address are all admitted, and leave no counter behind', () => {
  const throttle = new LoginThrottle({ freeFailures: 5 });
  const attempts = Array.from({ length: 20 }, (_, i) => {
    assert.equal(refusal(throttle, `user${i}`, '10.0.0.1', T0), undefined, `user${i} is admitted`);
    return throttle.begin(`user${i}`, '10.0.0.1', true);
  });
  for (const attempt of attempts) throttle.end(attempt, true, T0);
  assert.deepEqual(throttle.size, { users: 0, addresses: 0, known: 20 });
});

test('checks in progress are bounded: per user by the free failures left, per address by maxInFlight, then one while a wait is due', () => {
  const throttle = new LoginThrottle({ freeFailures: 3, maxInFlight: 4, baseDelayMs: 60_000 });
  const forAlice = [0, 1, 2].map(() => throttle.begin('alice', '10.0.0.1', true));
  assert.throws(() => throttle.begin('alice', '10.0.0.2', true), /too many logins in progress for user 'alice'; retry in 1 s/);
  throttle.end(forAlice[0]!, false, T0);
  assert.throws(() => throttle.begin('alice', '10.0.0.2', true), /in progress for user 'alice'/, 'one failure on record: two may run, two do');
  throttle.end(forAlice[1]!, undefined, T0); // the check itself failed: no verdict
  throttle.begin('alice', '10.0.0.2', true);
  // the address: four at once, whoever they are for (a user that does not exist counts only here)
  const fromOne = ['nobody1', 'nobody2', 'nobody3'].map((u) => throttle.begin(u, '10.0.0.1', false)); // with alice's third: four
  assert.throws(() => throttle.begin('nobody4', '10.0.0.1', false), /too many logins in progress from 10\.0\.0\.1/);
  for (const a of [forAlice[2]!, ...fromOne]) throttle.end(a, false, T0);
  assert.ok(refusal(throttle, 'bob', '10.0.0.1', T0), 'five failures from the address: a wait is due');
  // once that wait is served, one check at a time
  throttle.begin('bob', '10.0.0.1', true);
  assert.throws(() => throttle.begin('carol', '10.0.0.1', true), /too many logins in progress from 10\.0\.0\.1/);
});

test("a known pair is never refused for checks in progress: an attacker's parallel guesses do not lock out the user's own machine", () => {
  const throttle = new LoginThrottle({ freeFailures: 2 });
  throttle.succeeded('alice', '192.0.2.7');
  const guesses = [1, 2].map((i) => throttle.begin('alice', `198.51.100.${i}`, true));
  assert.throws(() => throttle.begin('alice', '198.51.100.3', true), /in progress for user 'alice'/);
  const own = throttle.begin('alice', '192.0.2.7', true);
  throttle.end(own, true, T0);
  for (const g of guesses) throttle.end(g, false, T0);
});
