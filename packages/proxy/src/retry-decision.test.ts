import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryDecision, type AttemptOutcome, type RetryDecision } from './retry-decision.js';
import { BACKEND_WENT_DOWN, RETRY_POLICY } from './policy.js';

const rows: Array<[string, AttemptOutcome, RetryDecision]> = [
  ['GET, 503, first attempt', { method: 'GET', result: { status: 503 }, bytesSent: false, attempt: 0 }, 'retry'],
  ['HEAD, 503', { method: 'HEAD', result: { status: 503 }, bytesSent: false, attempt: 0 }, 'retry'],
  ["GET, a node's deliberate 502 (failing mirror upstream) reaches the client", { method: 'GET', result: { status: 502 }, bytesSent: false, attempt: 0 }, 'answer'],
  ['HEAD, 502 is the answer', { method: 'HEAD', result: { status: 502 }, bytesSent: false, attempt: 0 }, 'answer'],
  ['GET, 504 is the answer', { method: 'GET', result: { status: 504 }, bytesSent: false, attempt: 0 }, 'answer'],
  ['GET, 500 is the answer', { method: 'GET', result: { status: 500 }, bytesSent: false, attempt: 0 }, 'answer'],
  ['GET, 404 is the answer', { method: 'GET', result: { status: 404 }, bytesSent: false, attempt: 0 }, 'answer'],
  ['GET, 200 is the answer', { method: 'GET', result: { status: 200 }, bytesSent: false, attempt: 0 }, 'answer'],
  ['GET, refused connection', { method: 'GET', result: { errorCode: 'ECONNREFUSED' }, bytesSent: false, attempt: 0 }, 'retry'],
  ['GET, headers timeout', { method: 'GET', result: { errorCode: 'UND_ERR_HEADERS_TIMEOUT' }, bytesSent: false, attempt: 0 }, 'retry'],
  ['GET, cancelled because the backend went down', { method: 'GET', result: { errorCode: BACKEND_WENT_DOWN }, bytesSent: false, attempt: 0 }, 'retry'],
  ['GET, an unknown error is answered 502', { method: 'GET', result: { errorCode: 'UND_ERR_INVALID_ARG' }, bytesSent: false, attempt: 0 }, 'answer'],
  ['GET, after bytes went out nothing is retried', { method: 'GET', result: { errorCode: 'ECONNRESET' }, bytesSent: true, attempt: 0 }, 'answer'],
  ["GET, 503 on the last attempt: the node's answer goes to the client unchanged", { method: 'GET', result: { status: 503 }, bytesSent: false, attempt: RETRY_POLICY.maxRetries }, 'answer'],
  ['GET, reset on the last attempt', { method: 'GET', result: { errorCode: 'ECONNRESET' }, bytesSent: false, attempt: RETRY_POLICY.maxRetries }, 'exhausted'],
  ['POST (upload), 503: never retried', { method: 'POST', result: { status: 503 }, bytesSent: false, attempt: 0 }, 'answer'],
  ['POST, headers timeout (hung master): answered by the proxy', { method: 'POST', result: { errorCode: 'UND_ERR_HEADERS_TIMEOUT' }, bytesSent: false, attempt: 0 }, 'answer'],
  ['POST, refused: never retried', { method: 'POST', result: { errorCode: 'ECONNREFUSED' }, bytesSent: false, attempt: 0 }, 'answer'],
  ['PUT, reset', { method: 'PUT', result: { errorCode: 'ECONNRESET' }, bytesSent: false, attempt: 0 }, 'answer'],
  ['DELETE, 502', { method: 'DELETE', result: { status: 502 }, bytesSent: false, attempt: 0 }, 'answer'],
];

for (const [name, outcome, expected] of rows) {
  test(`retry decision: ${name} -> ${expected}`, () => {
    assert.equal(retryDecision(outcome), expected);
  });
}

test('one retry at most: attempts 0..maxRetries-1 retry, maxRetries is the last', () => {
  assert.equal(RETRY_POLICY.maxRetries, 1);
  const at = (attempt: number) => retryDecision({ method: 'GET', result: { errorCode: 'ECONNRESET' }, bytesSent: false, attempt });
  assert.deepEqual([0, 1, 2].map(at), ['retry', 'exhausted', 'exhausted']);
  const answered = (attempt: number) => retryDecision({ method: 'GET', result: { status: 503 }, bytesSent: false, attempt });
  assert.deepEqual([0, 1, 2].map(answered), ['retry', 'answer', 'answer']);
});
