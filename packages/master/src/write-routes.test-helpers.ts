/**
 * Test support for the write route modules: an in-memory changelog with users `alice` and `bob`
 * (passwords `alice-pw`, `bob-pw`), alice's volatile `alice/dev` holding `demo` 1.0 (one wheel) and
 * non-volatile `alice/prod`, an authenticator over it, and an assertion that a write was refused
 * with a given status and committed nothing.
 */
import assert from 'node:assert/strict';
import { Changelog } from '@wheelhouse/changelog';
import { statusOf } from '@wheelhouse/http';
import { Authenticator, TokenSigner, WheelhouseError, attachFile, createIndex, createUser, hashPassword } from '@wheelhouse/core';

/** sha256 of the fixture's wheel (not a real hash; no bytes are stored). */
export const WHEEL_SHA = 'a'.repeat(64);
/** `+f` path of the fixture's wheel below `alice/dev/+f/`. */
export const WHEEL_PATH = `${WHEEL_SHA.slice(0, 3)}/${WHEEL_SHA.slice(3, 16)}/demo-1.0-py3-none-any.whl`;

/** The fixture (see module doc). */
export async function writeFixture(): Promise<{ changelog: Changelog; auth: Authenticator }> {
  const changelog = await Changelog.openInMemory();
  const hashes = { alice: await hashPassword('alice-pw'), bob: await hashPassword('bob-pw') };
  await changelog.write((tx) => {
    createUser(tx, 'alice', { pwhash: hashes.alice });
    createUser(tx, 'bob', { pwhash: hashes.bob });
    createIndex(tx, 'alice', 'dev', {});
    createIndex(tx, 'alice', 'prod', { volatile: false });
    attachFile(tx, 'alice/dev', { name: 'demo', version: '1.0' }, { filename: 'demo-1.0-py3-none-any.whl', sha256: WHEEL_SHA, size: 10 }, 'releasefile', 'alice');
  });
  return { changelog, auth: new Authenticator(changelog, new TokenSigner(Buffer.alloc(32, 7))) };
}

/** Asserts `write` rejects with a WheelhouseError of `status` (message matching `message`) and the head serial did not move. */
export async function assertRefused(changelog: Changelog, write: Promise<unknown>, status: number, message?: RegExp): Promise<void> {
  const head = changelog.head;
  await assert.rejects(write, (err: unknown) => {
    assert.ok(err instanceof WheelhouseError, `expected a WheelhouseError, got ${String(err)}`);
    assert.equal(statusOf(err), status, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
  assert.equal(changelog.head, head, 'a refused write commits nothing');
}
