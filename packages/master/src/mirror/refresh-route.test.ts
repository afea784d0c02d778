// `devpi refresh PKG`: POST …/+simple/{project}/refresh asks every allowed mirror of the index again,
// then redirects to the simple page; a name held by a private stage is not sent upstream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { Changelog } from '@wheelhouse/changelog';
import { attachFile, createErrorHandler, createIndex, createUser } from '@wheelhouse/core';
import { createRefreshRoute } from './refresh-route.js';

test('refresh: 302 to the simple page after refreshing each allowed mirror; private names and unknown indexes not', async () => {
  const cl = await Changelog.openInMemory();
  await cl.write((tx) => {
    createUser(tx, 'root', {});
    createIndex(tx, 'root', 'pypi', { type: 'mirror', mirror_url: 'http://127.0.0.1:9/simple/' });
    createIndex(tx, 'root', 'dev', { bases: ['root/pypi'] });
    attachFile(tx, 'root/dev', { name: 'private', version: '1.0' }, { filename: 'private-1.0.tar.gz', sha256: 'c'.repeat(64), size: 1 }, 'releasefile', 'root');
  });
  const refreshed: string[] = [];
  const app = express();
  app.use(createRefreshRoute(cl, { refresh: async (stage, project) => (refreshed.push(`${stage} ${project}`), {}) }));
  app.use(createErrorHandler(pino({ level: 'silent' })));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const res = await fetch(`${url}/root/dev/+simple/Some_Pkg/refresh`, { method: 'POST', redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/root/dev/+simple/some-pkg/');
    assert.deepEqual(refreshed, ['root/pypi some-pkg']);
    const own = await fetch(`${url}/root/dev/+simple/private/refresh`, { method: 'POST', redirect: 'manual' });
    assert.equal(own.status, 302);
    assert.deepEqual(refreshed, ['root/pypi some-pkg'], 'the private name is not sent upstream');
    const missing = await fetch(`${url}/root/nope/+simple/x/refresh`, { method: 'POST', redirect: 'manual' });
    assert.equal(missing.status, 404);
  } finally {
    server.close();
    await cl.close();
  }
});
