import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ejectionVerdict } from './ejection-rule.js';
import { BACKEND_WENT_DOWN } from './policy.js';

test('what counts against a backend today: 5xx answers and transport errors; a refused connection takes it down', () => {
  assert.equal(ejectionVerdict({ status: 200 }), 'success');
  assert.equal(ejectionVerdict({ status: 404 }), 'success');
  assert.equal(ejectionVerdict({ status: 499 }), 'success');
  assert.equal(ejectionVerdict({ status: 500 }), 'failure');
  assert.equal(ejectionVerdict({ status: 503 }), 'failure');
  assert.equal(ejectionVerdict({ errorCode: 'ECONNRESET' }), 'failure');
  assert.equal(ejectionVerdict({ errorCode: 'UND_ERR_HEADERS_TIMEOUT' }), 'failure');
  assert.equal(ejectionVerdict({ errorCode: BACKEND_WENT_DOWN }), 'failure');
  for (const code of ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']) assert.equal(ejectionVerdict({ errorCode: code }), 'down', code);
});
