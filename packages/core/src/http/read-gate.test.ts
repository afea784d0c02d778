import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Changelog } from '@wheelhouse/changelog';
import { statusOf } from '@wheelhouse/http';
import { Authenticator } from '../auth/authenticator.js';
import { replicaTokenSigner, REPLICA_SUBJECT, TokenSigner } from '../auth/tokens.js';
import { createIndex } from '../model/indexes.js';
import { ReadAccess } from '../model/read-access.js';
import { createUser } from '../model/users.js';
import { createReadGate, stageOfUrl } from './read-gate.js';

test('stageOfUrl: the first two segments, decoded as the routers decode them; none for reserved or partial paths', () => {
  assert.equal(stageOfUrl('/alice/dev/+simple/'), 'alice/dev');
  assert.equal(stageOfUrl('/alice/dev'), 'alice/dev');
  assert.equal(stageOfUrl('/alice/dev?no_projects='), 'alice/dev');
  assert.equal(stageOfUrl('/%61lice/d%65v/+f/abc'), 'alice/dev');
  assert.equal(stageOfUrl('/alice'), undefined);
  assert.equal(stageOfUrl('/alice/'), undefined);
  assert.equal(stageOfUrl('/+search?q=x'), undefined);
  assert.equal(stageOfUrl('/alice/+api'), undefined);
  assert.equal(stageOfUrl('/alice/%2Bapi'), undefined);
  assert.equal(stageOfUrl('//alice/dev'), undefined);
  assert.equal(stageOfUrl('/%zz/dev'), undefined);
});

const secret = Buffer.alloc(32, 7);

async function setup() {
  const cl = await Changelog.openInMemory();
  await cl.write((tx) => {
    createUser(tx, 'alice', {});
    createIndex(tx, 'alice', 'open', {});
    createIndex(tx, 'alice', 'private', { acl_read: ['bob'] });
  });
  const access = new ReadAccess(cl);
  const gate = createReadGate({ access, auth: new Authenticator(cl, new TokenSigner(secret)), replicaTokens: replicaTokenSigner(secret) });
  return { cl, access, gate };
}

const request = (url: string, headers: Record<string, string> = {}, method = 'GET') => ({ method, url, headers, socket: { remoteAddress: '127.0.0.1' } }) as unknown as IncomingMessage;
const response = () => {
  const res = { writeHead: () => res, setHeader: () => res, getHeader: () => undefined, hasHeader: () => false } as unknown as ServerResponse;
  return res;
};

test('the gate: open indexes, unknown ones and writes pass synchronously (no authentication work)', async () => {
  const { gate, access } = await setup();
  assert.equal(gate(request('/alice/open/+simple/', { authorization: 'Basic Ym9iOm5vcGU=' }), response()), undefined);
  assert.equal(gate(request('/alice/missing/+simple/'), response()), undefined);
  assert.equal(gate(request('/alice/private/', {}, 'POST'), response()), undefined);
  assert.equal(gate(request('/+search?q=x'), response()), undefined);
  access.close();
});

test('the gate: a restricted index refuses anonymous with 401, passes a replica token, refuses a bad bearer token', async () => {
  const { gate, access } = await setup();
  await assert.rejects(gate(request('/alice/private/+simple/'), response())!, (err: unknown) => statusOf(err) === 401);
  const token = replicaTokenSigner(secret).issue(REPLICA_SUBJECT, 60);
  await gate(request('/alice/private/+simple/', { authorization: `Bearer ${token}` }), response());
  const forged = new TokenSigner(Buffer.alloc(32, 8), 'wheelhouse-replica').issue(REPLICA_SUBJECT, 60);
  await assert.rejects(gate(request('/alice/private/+simple/', { authorization: `Bearer ${forged}` }), response())!, (err: unknown) => statusOf(err) === 401);
  access.close();
});
