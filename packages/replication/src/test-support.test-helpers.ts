/** Test helpers shared by the replication tests: waiting for a condition, a silent logger, a small master history. */
import { pino, type Logger } from 'pino';
import type { Changelog } from '@wheelhouse/changelog';
import { createIndex, createUser } from '@wheelhouse/core';
import { waitFor as waitUntil } from '@wheelhouse/testing';

/** A logger that writes nothing. */
export const silent: Logger = pino({ level: 'silent' });

/** Resolves once `cond()` holds (polled every 5 ms); rejects after `timeoutMs` (default 5,000) naming `what`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  await waitUntil(cond, { what, timeoutMs, intervalMs: 5 });
}

/** Commits `count` records on `master`: user alice and her stage `alice/dev`, then plain values. */
export async function writeHistory(master: Changelog, count: number): Promise<void> {
  await master.write((tx) => createUser(tx, 'alice', { pwhash: 'not-a-real-hash', email: 'alice@example.org' }));
  await master.write((tx) => void createIndex(tx, 'alice', 'dev', { acl_upload: ['alice'] }));
  for (let i = 2; i < count; i++) await master.write((tx) => tx.set(`test/value-${i}`, { i }));
}
