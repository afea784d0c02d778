import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { keepPrivate, privateCacheControl } from './private-response.js';

test('privateCacheControl drops public and puts private first', () => {
  assert.equal(privateCacheControl('public, max-age=31536000, immutable'), 'private, max-age=31536000, immutable');
  assert.equal(privateCacheControl('max-age=0, must-revalidate'), 'private, max-age=0, must-revalidate');
  assert.equal(privateCacheControl(undefined), 'private');
  assert.equal(privateCacheControl('private, no-cache'), 'private, no-cache');
});

async function cacheControlOf(handler: (res: import('node:http').ServerResponse) => void): Promise<string | undefined> {
  const server: Server = createServer((_req, res) => {
    keepPrivate(res);
    handler(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/' }, (res) => {
        res.resume();
        resolve(res.headers['cache-control']);
      })
        .on('error', reject)
        .end();
    });
  } finally {
    server.close();
  }
}

test('a flat header list given to writeHead (the fast path) becomes private', async () => {
  assert.equal(await cacheControlOf((res) => res.writeHead(200, ['ETag', '"x"', 'Cache-Control', 'public, max-age=31536000, immutable']).end('x')), 'private, max-age=31536000, immutable');
  assert.equal(await cacheControlOf((res) => res.writeHead(200, ['Content-Length', '0']).end()), 'private');
});

test('headers set before an implicit writeHead (express) become private', async () => {
  assert.equal(
    await cacheControlOf((res) => {
      res.setHeader('Cache-Control', 'public, max-age=60');
      res.end('page');
    }),
    'private, max-age=60',
  );
  assert.equal(await cacheControlOf((res) => res.end('json')), 'private');
  assert.equal(await cacheControlOf((res) => res.writeHead(404, { 'Cache-Control': 'max-age=0' }).end()), 'private, max-age=0');
});
