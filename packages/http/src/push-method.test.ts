import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rewritePush } from './push-method.js';

test('rewritePush turns a PUSH request line into POST without touching the input or other bytes', () => {
  const input = Buffer.from('PUSH /u/i HTTP/1.1\r\n\r\n');
  const out = rewritePush(input);
  assert.equal(out.toString(), 'POST /u/i HTTP/1.1\r\n\r\n');
  assert.equal(input.toString(), 'PUSH /u/i HTTP/1.1\r\n\r\n');
  const other = Buffer.from('GET / HTTP/1.1\r\n\r\n');
  assert.equal(rewritePush(other), other);
  assert.equal(rewritePush(Buffer.from('PUS')).toString(), 'PUS');
});
