/**
 * A consistent view of a data directory's store at one serial, for export and backup, whether the
 * node is stopped or running:
 *
 * - stopped: the LevelDB store is opened directly (its state at its head);
 * - running (its LevelDB is locked): the node's changelog feed is read with a replica token (the
 *   secret file of the data directory, or `--secret-file`), from serial 0 up to the head the node
 *   had when asked, and applied to an in-memory store — the state at exactly that serial, while the
 *   node keeps committing. File bytes are read from the data directory (they never change).
 */
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { request } from 'undici';
import { Changelog, DataDirInUseError, FileStore, decodeRecord, type EncodedRecord } from '@wheelhouse/changelog';
import { FrameDecoder } from '@wheelhouse/replication';
import { REPLICA_SUBJECT, REPLICA_TOKEN_SECONDS, replicaTokenSigner, takeBlobLease } from '@wheelhouse/core';
import { readNodeFile } from '@wheelhouse/http';

/** A store at one serial plus its file store. */
export interface Snapshot {
  changelog: Changelog;
  files: FileStore;
  /** 'direct' (stopped node) or 'online' (read through the running node's feed). */
  mode: 'direct' | 'online';
  /** UUID of the source store. */
  uuid: string;
  close(): Promise<void>;
}

/** True when opening a data directory failed because a running node holds it (its lock, or LevelDB's). */
export function isInUse(err: unknown): boolean {
  if (err instanceof DataDirInUseError) return true;
  const text = `${(err as Error).message} ${String((err as { cause?: unknown }).cause ?? '')}`;
  return /lock/i.test(text) || (err as { code?: string }).code === 'LEVEL_LOCKED';
}

/**
 * Opens a snapshot of `datadir` (see module doc). Throws with a message that says what to do.
 * Holds a blob lease (core/src/gc/leases.ts) from before the state is read until `close()`, so the
 * node's garbage collection removes no blob the snapshot names while it is copied.
 */
export async function openSnapshot(datadir: string, opts: { secretFile?: string; onRecord?: (serial: number, head: number) => void } = {}): Promise<Snapshot> {
  const lease = await takeBlobLease(join(datadir, 'files'), 'export');
  try {
    const snap = await openSnapshotUnleased(datadir, opts);
    return { ...snap, close: () => snap.close().finally(() => lease.release()) };
  } catch (err) {
    await lease.release();
    throw err;
  }
}

async function openSnapshotUnleased(datadir: string, opts: { secretFile?: string; onRecord?: (serial: number, head: number) => void }): Promise<Snapshot> {
  const files = new FileStore(join(datadir, 'files'));
  try {
    const changelog = await Changelog.open({ location: join(datadir, 'db') });
    return { changelog, files, mode: 'direct', uuid: changelog.uuid, close: () => changelog.close() };
  } catch (err) {
    if (!isInUse(err)) throw err;
  }
  const node = await readNodeFile(datadir);
  if (!node) throw new Error(`${datadir} is in use by a running node, but it has no node.json telling where it listens`);
  const secretPath = opts.secretFile ?? join(datadir, 'secret');
  const secret = await readFile(secretPath).catch((e: Error) => {
    throw new Error(`cannot read the secret file ${secretPath} to read the running node's changelog: ${e.message}; pass --secret-file`);
  });
  const changelog = await Changelog.openInMemory();
  const { uuid } = await pullChangelog(node.url, secret, (rec) => changelog.apply(rec.bytes), opts.onRecord);
  return { changelog, files, mode: 'online', uuid, close: () => changelog.close() };
}

/**
 * Reads a node's feed from serial 0 up to the head it reports at the start, calling `sink` for
 * each record in order. Returns that head and the node's store UUID.
 */
export async function pullChangelog(
  url: string,
  secret: Uint8Array,
  sink: (record: EncodedRecord) => Promise<unknown>,
  onRecord?: (serial: number, head: number) => void,
): Promise<{ head: number; uuid: string }> {
  const token = replicaTokenSigner(secret).issue(REPLICA_SUBJECT, REPLICA_TOKEN_SECONDS);
  const ac = new AbortController();
  const res = await request(`${url.replace(/\/+$/, '')}/+changelog/0-`, { headers: { authorization: `Bearer ${token}` }, signal: ac.signal });
  if (res.statusCode !== 200) {
    const text = await res.body.text().catch(() => '');
    throw new Error(`${url} answered ${res.statusCode} for its changelog: ${text.slice(0, 200)}`);
  }
  const head = Number(res.headers['x-devpi-serial']);
  const uuid = String(res.headers['x-devpi-uuid'] ?? '');
  if (!Number.isSafeInteger(head) || !uuid) throw new Error(`${url} sent no X-Devpi-Serial or X-Devpi-UUID`);
  if (head < 0) {
    ac.abort();
    return { head, uuid };
  }
  const decoder = new FrameDecoder();
  try {
    for await (const chunk of res.body) {
      for (const payload of decoder.push(chunk as Uint8Array)) {
        if (payload.length === 0) continue;
        const { serial } = decodeRecord(payload);
        await sink({ serial, bytes: payload });
        onRecord?.(serial, head);
        if (serial >= head) {
          ac.abort();
          return { head, uuid };
        }
      }
    }
  } catch (err) {
    if (!ac.signal.aborted) throw err;
    return { head, uuid };
  }
  throw new Error(`${url}'s changelog stream ended before serial ${head}`);
}
