import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { outsideUrl } from './outside-url.js';

const req = (headers: Record<string, string>, encrypted = false): IncomingMessage => ({ headers, socket: { encrypted } }) as unknown as IncomingMessage;

test('outside URL: X-outside-url, then the configured one, then X-Forwarded-*, then Host with the connection scheme', () => {
  assert.equal(outsideUrl(req({ 'x-outside-url': 'https://a.example/' }), 'http://b'), 'https://a.example');
  assert.equal(outsideUrl(req({ host: 'h' }), 'https://b.example/'), 'https://b.example');
  assert.equal(outsideUrl(req({ host: 'h', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'f.example' })), 'https://f.example');
  assert.equal(outsideUrl(req({ host: 'h:3141' })), 'http://h:3141');
  // a node reached directly over TLS links https
  assert.equal(outsideUrl(req({ host: 'h:3141' }, true)), 'https://h:3141');
});
