import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ejectionVerdict, type EjectionVerdict } from './ejection-rule.js';
import type { BackendResult } from './backend-result.js';
import { BACKEND_WENT_DOWN, CLIENT_WENT_AWAY } from './policy.js';

// issue 11: two anonymous requests that made the master answer 500 ejected it for everyone's writes
const rows: Array<[string, BackendResult, EjectionVerdict]> = [
  ['200', { status: 200 }, 'success'],
  ['404', { status: 404 }, 'success'],
  ['499', { status: 499 }, 'success'],
  ['a 500 a client provoked is an answer', { status: 500 }, 'success'],
  ["a replica's 502 for a failing mirror upstream is an answer", { status: 502 }, 'success'],
  ["a route's 503 is an answer (readiness is /+ready's, counted by the checks)", { status: 503 }, 'success'],
  ['504 is an answer', { status: 504 }, 'success'],
  ['507 is an answer', { status: 507 }, 'success'],
  ['connection reset', { errorCode: 'ECONNRESET' }, 'failure'],
  ['socket closed mid-exchange', { errorCode: 'UND_ERR_SOCKET' }, 'failure'],
  ['no headers in time (a hung node)', { errorCode: 'UND_ERR_HEADERS_TIMEOUT' }, 'failure'],
  ['ETIMEDOUT', { errorCode: 'ETIMEDOUT' }, 'failure'],
  ['EPIPE', { errorCode: 'EPIPE' }, 'failure'],
  ['refused connection', { errorCode: 'ECONNREFUSED' }, 'down'],
  ['host unreachable', { errorCode: 'EHOSTUNREACH' }, 'down'],
  ['network unreachable', { errorCode: 'ENETUNREACH' }, 'down'],
  ['connect timeout', { errorCode: 'UND_ERR_CONNECT_TIMEOUT' }, 'down'],
  ['cancelled by the proxy because the node already went down', { errorCode: BACKEND_WENT_DOWN }, 'none'],
  ['the client went away mid-upload', { errorCode: CLIENT_WENT_AWAY }, 'none'],
  ['the client sent fewer bytes than its Content-Length', { errorCode: 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH' }, 'none'],
  ['an unknown code (a proxy defect) is not the node\'s fault', { errorCode: 'UND_ERR_INVALID_ARG' }, 'none'],
];

for (const [name, result, expected] of rows) {
  test(`ejection verdict: ${name} -> ${expected}`, () => {
    assert.equal(ejectionVerdict(result), expected);
  });
}
