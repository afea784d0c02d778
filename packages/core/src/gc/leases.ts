/**
 * Leases that hold garbage collection back while an export or backup copies blobs. A lease is a
 * file `<file store root>/leases/<id>.lease` (so a `wheelhouse export` in another process, reading
 * the data directory of a running node, is seen by that node's collector). The holder refreshes the
 * file's mtime every `LEASE_REFRESH_MS`; a lease not refreshed for `LEASE_STALE_MS` (a crashed
 * export) no longer counts, so a lost holder cannot stop collection for good. While any live lease
 * exists the collector removes nothing (it may still scan and report).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** How often a holder refreshes its lease, ms. */
export const LEASE_REFRESH_MS = 30_000;
/** A lease not refreshed for this long is ignored, ms (10 refresh periods). */
export const LEASE_STALE_MS = 10 * LEASE_REFRESH_MS;

/** A held lease; `release()` removes it (idempotent). */
export interface BlobLease {
  id: string;
  release(): Promise<void>;
}

function leaseDir(fileStoreRoot: string): string {
  return join(fileStoreRoot, 'leases');
}

/** Takes a lease on the blobs of the file store at `fileStoreRoot`; `purpose` is written into it for people. */
export async function takeBlobLease(fileStoreRoot: string, purpose: string): Promise<BlobLease> {
  const dir = leaseDir(fileStoreRoot);
  await mkdir(dir, { recursive: true });
  const id = `${Date.now()}-${randomBytes(6).toString('hex')}`;
  const path = join(dir, `${id}.lease`);
  await writeFile(path, JSON.stringify({ purpose, pid: process.pid, taken: new Date().toISOString() }) + '\n');
  const timer = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined);
  }, LEASE_REFRESH_MS);
  timer.unref();
  let released = false;
  return {
    id,
    release: async () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      await rm(path, { force: true });
    },
  };
}

/** Ids of the live (refreshed within `staleMs`) leases on the file store at `fileStoreRoot`. */
export async function liveBlobLeases(fileStoreRoot: string, now = Date.now(), staleMs = LEASE_STALE_MS): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(leaseDir(fileStoreRoot));
  } catch {
    return [];
  }
  const live: string[] = [];
  for (const name of names) {
    if (!name.endsWith('.lease')) continue;
    const info = await stat(join(leaseDir(fileStoreRoot), name)).catch(() => undefined);
    if (info && now - info.mtimeMs <= staleMs) live.push(name.slice(0, -'.lease'.length));
  }
  return live;
}
