import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminAction, isAdminPath, isLoopback, type AdminRequest } from './admin.js';
import { Backend, BackendPool } from './backends.js';
import { DEFAULT_HEALTH_POLICY } from './policy.js';
import { proxyStatus } from './proxy-status.js';

const req = (r: Partial<AdminRequest>): AdminRequest => ({ method: 'GET', path: '/+status', accept: undefined, remoteAddress: '127.0.0.1', ...r });

test('/+status is JSON, or a page for a browser; /+metrics is answered; other methods are not found', () => {
  assert.deepEqual(adminAction(req({})), { kind: 'status-json' });
  assert.deepEqual(adminAction(req({ accept: 'text/html,application/xhtml+xml' })), { kind: 'status-html' });
  assert.deepEqual(adminAction(req({ path: '/+metrics' })), { kind: 'metrics' });
  assert.equal(adminAction(req({ method: 'POST' })).kind, 'not-found');
  assert.equal(adminAction(req({ method: 'HEAD', path: '/+metrics' })).kind, 'not-found');
  assert.deepEqual(adminAction(req({ path: '/+proxy/other' })), { kind: 'not-found', message: 'not found: /+proxy/other' });
});

test('drain switches are POSTs from loopback; from anywhere else they are refused', () => {
  assert.deepEqual(adminAction(req({ method: 'POST', path: '/+proxy/drain/replica1' })), { kind: 'drain', backend: 'replica1', draining: true });
  assert.deepEqual(adminAction(req({ method: 'POST', path: '/+proxy/undrain/master', remoteAddress: '::1' })), { kind: 'drain', backend: 'master', draining: false });
  assert.equal(adminAction(req({ method: 'POST', path: '/+proxy/drain/replica1', remoteAddress: '::ffff:127.0.0.1' })).kind, 'drain');
  for (const remoteAddress of ['10.0.0.5', '::ffff:10.0.0.5', '128.0.0.1', '::2', undefined]) {
    assert.equal(adminAction(req({ method: 'POST', path: '/+proxy/drain/replica1', remoteAddress })).kind, 'refused', String(remoteAddress));
  }
  assert.equal(adminAction(req({ method: 'GET', path: '/+proxy/drain/replica1' })).kind, 'not-found');
  assert.equal(adminAction(req({ method: 'POST', path: '/+proxy/drain/a/b' })).kind, 'not-found');
});

test('admin paths are the proxy\'s own; everything else is forwarded', () => {
  assert.deepEqual(['/+status', '/+metrics', '/+proxy/drain/x', '/root/dev/+simple/', '/+statusx', '/+api'].map(isAdminPath), [true, true, true, false, false, false]);
  assert.equal(isLoopback('127.8.9.1'), true);
  assert.equal(isLoopback('1.127.0.0'), false);
});

test('the status lists each backend with its state and a replica\'s lag behind the master', () => {
  const master = new Backend('master', 'http://m', 'master');
  const replica = new Backend('replica1', 'http://r', 'replica');
  const pool = new BackendPool([master, replica], DEFAULT_HEALTH_POLICY);
  master.noteSerial(20, 'u');
  replica.noteSerial(15, 'u');
  replica.ejectedUntil = 2_000;
  replica.lastError = 'ECONNRESET';
  pool.noteWriteAnswer(200, { serial: 20, masterUuid: 'u' });
  const s = proxyStatus(pool, 1_000);
  assert.equal(s.role, 'PROXY');
  assert.equal(s['write-serial'], 20);
  const [m, r] = s.backends;
  assert.equal(m?.['lag-serials'], null);
  assert.equal(m?.usable, true);
  assert.equal(m?.['last-check'], null);
  assert.equal(r?.['lag-serials'], 5);
  assert.equal(r?.ejected, true);
  assert.equal(r?.usable, false);
  assert.equal(r?.['last-error'], 'ECONNRESET');
  assert.equal(proxyStatus(pool, 2_000).backends[1]?.usable, true);
});
