/**
 * The dump format (docs/dump-format.md), version 1: a directory with
 *
 * - `manifest.json` — written last, so a dump without it is incomplete: {@link Manifest};
 * - `state.jsonl` — the logical state at `serial`, one `{"key": …, "value": …}` line per key,
 *   sorted by key (users with password hashes, index configs, projects, releases with metadata,
 *   links and upload logs, file entries);
 * - `files/<sha256>` — every release file, doc zip, test result and METADATA blob the state names.
 */
import { createHash } from 'node:crypto';
import type { FileEntry, ReleaseRecord } from '@wheelhouse/core';

/** The dump format version this code writes and reads. */
export const DUMP_FORMAT = 1;

/** Object counts of a state, compared on import. */
export interface DumpCounts {
  users: number;
  indexes: number;
  projects: number;
  releases: number;
  releasefiles: number;
  doczips: number;
  toxresults: number;
  /** upload/push/overwrite entries over all links */
  logEntries: number;
  /** distinct blobs */
  blobs: number;
}

/** `manifest.json`. */
export interface Manifest {
  'dump-format': number;
  server: 'wheelhouse';
  'server-version': string;
  /** UUID of the store the dump was taken from (the importer mints a new one). */
  'source-uuid': string;
  /** The serial whose state the dump holds. */
  serial: number;
  /** ISO 8601 */
  created: string;
  counts: DumpCounts;
  /** sha256 hex of `state.jsonl` */
  'state-sha256': string;
  /** every blob: sha256 → size in bytes */
  files: Record<string, number>;
}

/** The blobs a state names (release files and METADATA), with sizes where known. */
export function blobsOf(entries: Iterable<[string, unknown]>): Map<string, number | undefined> {
  const out = new Map<string, number | undefined>();
  for (const [key, value] of entries) {
    if (!key.startsWith('file/')) continue;
    const e = value as FileEntry;
    out.set(e.sha256, e.size);
    if (e.metadata_sha256 && !out.has(e.metadata_sha256)) out.set(e.metadata_sha256, undefined);
  }
  return out;
}

/** Counts the objects of a state. */
export function countState(entries: Iterable<[string, unknown]>): DumpCounts {
  const c: DumpCounts = { users: 0, indexes: 0, projects: 0, releases: 0, releasefiles: 0, doczips: 0, toxresults: 0, logEntries: 0, blobs: 0 };
  const list = [...entries];
  for (const [key, value] of list) {
    const kind = key.slice(0, key.indexOf('/'));
    if (kind === 'user') c.users++;
    else if (kind === 'index') c.indexes++;
    else if (kind === 'project') c.projects++;
    else if (kind === 'release') {
      c.releases++;
      for (const l of (value as ReleaseRecord).links) {
        if (l.rel === 'releasefile') c.releasefiles++;
        else if (l.rel === 'doczip') c.doczips++;
        else c.toxresults++;
        c.logEntries += l.log.length;
      }
    }
  }
  c.blobs = blobsOf(list).size;
  return c;
}

/** One `state.jsonl` line. */
export function stateLine(key: string, value: unknown): string {
  return JSON.stringify({ key, value }) + '\n';
}

/** sha256 hex of bytes or text. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
