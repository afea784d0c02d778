import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LOGIN_EXPIRATION_SECONDS, TokenSigner } from './tokens.js';

const secret = Buffer.from('0123456789abcdef0123456789abcdef-test-secret');

test('a token issued for a user verifies as that user, with or without naming the user', () => {
  const signer = new TokenSigner(secret);
  const token = signer.issue('alice');
  assert.match(token, /^wh1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  assert.equal(signer.verify(token), 'alice');
  assert.equal(signer.verify(token, 'alice'), 'alice');
  // another signer over the same secret (another node) accepts it too
  assert.equal(new TokenSigner(Buffer.from(secret)).verify(token, 'alice'), 'alice');
});

test('a token is not valid for another user', () => {
  const signer = new TokenSigner(secret);
  assert.equal(signer.verify(signer.issue('alice'), 'bob'), undefined);
});

test('a token expires after its lifetime (default 10 h)', () => {
  const signer = new TokenSigner(secret);
  const now = 1_700_000_000_000;
  const token = signer.issue('alice', undefined, now);
  assert.equal(signer.verify(token, 'alice', now + LOGIN_EXPIRATION_SECONDS * 1000 - 1), 'alice');
  assert.equal(signer.verify(token, 'alice', now + LOGIN_EXPIRATION_SECONDS * 1000), undefined);
  const short = signer.issue('alice', 5, now);
  assert.equal(signer.verify(short, 'alice', now + 4_999), 'alice');
  assert.equal(signer.verify(short, 'alice', now + 5_000), undefined);
});

test('a tampered token is refused: payload, signature, prefix, shape', () => {
  const signer = new TokenSigner(secret);
  const now = Date.now();
  const token = signer.issue('alice', 60, now);
  const [prefix, payload, sig] = token.split('.') as [string, string, string];
  // payload rewritten to another user and a later expiry, signature kept
  const forged = Buffer.from(JSON.stringify(['root', now + 1e12])).toString('base64url');
  assert.equal(signer.verify(`${prefix}.${forged}.${sig}`), undefined);
  // one flipped character in the signature
  const flipped = sig.slice(0, -1) + (sig.endsWith('A') ? 'B' : 'A');
  assert.equal(signer.verify(`${prefix}.${payload}.${flipped}`), undefined);
  assert.equal(signer.verify(`wh2.${payload}.${sig}`), undefined);
  assert.equal(signer.verify(`${prefix}.${payload}`), undefined);
  assert.equal(signer.verify(`${token}.x`), undefined);
  assert.equal(signer.verify(''), undefined);
  assert.equal(signer.verify('a plain password'), undefined);
});

test('a token signed with another secret or for another purpose is refused', () => {
  const token = new TokenSigner(secret).issue('alice');
  assert.equal(new TokenSigner(Buffer.from('another secret of at least 32 bytes!!')).verify(token, 'alice'), undefined);
  assert.equal(new TokenSigner(secret, 'wheelhouse-replica').verify(token, 'alice'), undefined);
});

test('a correctly signed payload of the wrong shape is refused', () => {
  // issue() only makes good claims: sign other payloads with the signer's own (private) HMAC
  const signer = new TokenSigner(secret);
  const signed = (claims: unknown): string => {
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const head = `wh1.${payload}`;
    const sig = (signer as unknown as { sign(d: string): string }).sign(head);
    return `${head}.${sig}`;
  };
  assert.equal(signer.verify(signed(['alice', Date.now() + 60_000])), 'alice', 'the forging helper is right');
  assert.equal(signer.verify(signed({ user: 'alice' })), undefined);
  assert.equal(signer.verify(signed(['alice', String(Date.now() + 60_000)])), undefined);
  assert.equal(signer.verify(signed([42, Date.now() + 60_000])), undefined);
  const head = `wh1.${Buffer.from('not json').toString('base64url')}`;
  assert.equal(signer.verify(`${head}.${(signer as unknown as { sign(d: string): string }).sign(head)}`), undefined);
});
