import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendRequestHeaders, clientResponseHeaders, passedThrough, requestHasBody } from './forward-headers.js';

const client = { remoteAddress: '10.0.0.7', viaToken: 'wheelhouse-proxy-abcd', outsideUrl: undefined, listenAddress: '127.0.0.1:3141' };

test('hop-by-hop headers are not forwarded to the backend; the rest is', () => {
  const h = backendRequestHeaders(
    { host: 'pypi.example', connection: 'keep-alive', 'keep-alive': 'timeout=5', te: 'trailers', trailer: 'x', 'transfer-encoding': 'chunked', upgrade: 'h2c', 'proxy-authorization': 'Basic x', authorization: 'Basic y', accept: 'text/html' },
    client,
  );
  for (const k of ['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authorization']) assert.equal(h[k], undefined, k);
  assert.equal(h['authorization'], 'Basic y');
  assert.equal(h['accept'], 'text/html');
  assert.equal(h['host'], 'pypi.example');
});

test('the proxy adds itself to Via, and sees its own token as a loop', () => {
  assert.equal(backendRequestHeaders({}, client)['via'], '1.1 wheelhouse-proxy-abcd');
  assert.equal(backendRequestHeaders({ via: '1.1 lb' }, client)['via'], '1.1 lb, 1.1 wheelhouse-proxy-abcd');
  assert.equal(passedThrough({ via: '1.1 lb, 1.1 wheelhouse-proxy-abcd' }, client.viaToken), true);
  assert.equal(passedThrough({ via: '1.1 wheelhouse-proxy-ffff' }, client.viaToken), false);
  assert.equal(passedThrough({}, client.viaToken), false);
});

test('X-Forwarded-For gets the client address appended; Proto, Host and X-outside-url are set unless sent', () => {
  const fresh = backendRequestHeaders({ host: 'pypi.example:8080' }, client);
  assert.equal(fresh['x-forwarded-for'], '10.0.0.7');
  assert.equal(fresh['x-forwarded-proto'], 'http');
  assert.equal(fresh['x-forwarded-host'], 'pypi.example:8080');
  assert.equal(fresh['x-outside-url'], 'http://pypi.example:8080');
  const behindLb = backendRequestHeaders({ host: 'internal', 'x-forwarded-for': '1.2.3.4', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'pypi.example', 'x-outside-url': 'https://pypi.example' }, client);
  assert.equal(behindLb['x-forwarded-for'], '1.2.3.4, 10.0.0.7');
  assert.equal(behindLb['x-forwarded-proto'], 'https');
  assert.equal(behindLb['x-forwarded-host'], 'pypi.example');
  assert.equal(behindLb['x-outside-url'], 'https://pypi.example');
  assert.equal(backendRequestHeaders({ host: 'h' }, { ...client, outsideUrl: 'https://configured' })['x-outside-url'], 'https://configured');
  assert.equal(backendRequestHeaders({}, client)['x-outside-url'], 'http://127.0.0.1:3141', 'no Host: the listen address');
});

test('hop-by-hop headers of the answer do not reach the client', () => {
  assert.deepEqual(clientResponseHeaders({ connection: 'close', 'transfer-encoding': 'chunked', 'keep-alive': 'timeout=5', 'content-type': 'text/html', 'x-devpi-serial': '3' }), { 'content-type': 'text/html', 'x-devpi-serial': '3' });
});

test('a body is streamed for writes with a non-zero Content-Length or chunked encoding, never for reads', () => {
  assert.equal(requestHasBody(false, { 'content-length': '12' }), true);
  assert.equal(requestHasBody(false, { 'content-length': '0' }), false);
  assert.equal(requestHasBody(false, { 'transfer-encoding': 'chunked' }), true);
  assert.equal(requestHasBody(false, {}), false);
  assert.equal(requestHasBody(true, { 'content-length': '12' }), false);
});

test('a TLS proxy tells its backends the client used https (X-Forwarded-Proto and X-outside-url)', () => {
  const h = backendRequestHeaders({ host: 'pypi.example' }, { ...client, scheme: 'https' });
  assert.equal(h['x-forwarded-proto'], 'https');
  assert.equal(h['x-outside-url'], 'https://pypi.example');
  // a configured outside URL and headers a client sent still win
  assert.equal(backendRequestHeaders({ host: 'p' }, { ...client, scheme: 'https', outsideUrl: 'https://pypi.example/sub' })['x-outside-url'], 'https://pypi.example/sub');
});
