/**
 * The dump format (docs/dump-format.md), version 1: a directory with
 *
 * - `manifest.json` — written last, so a dump without it is incomplete: {@link Manifest};
 * - `state.jsonl` — the logical state at `serial`, one `{"key": …, "value": …}` line per key,
 *   sorted by key (users with password hashes, index configs, projects, releases with metadata,
 *   links and upload logs, file entries, mirrors' cached pages and project lists);
 * - `files/<sha256>` — every blob the state names (`blobsNamedBy`): release files, doc zips, test
 *   results, METADATA blobs and mirrors' stored project-list pages.
 */
import { createHash } from 'node:crypto';
import { blobsNamedBy, blobsNamedByState, keyKind, type ReleaseRecord } from '@wheelhouse/core';

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

/**
 * Drops the `mirrorlist/…` entries whose page blobs `files` (a manifest's sha256 → bytes) does not
 * list: dumps written before mirror list pages were exported hold such entries without their
 * blobs. A mirror's project list is a cache the master fetches again from upstream, so an import
 * drops it rather than refusing the dump (or importing a list whose pages are missing). Returns
 * the entries kept and the keys dropped.
 */
export function dropUnlistedMirrorLists(
  entries: ReadonlyArray<[string, unknown]>,
  files: Readonly<Record<string, number>>,
): { kept: Array<[string, unknown]>; dropped: string[] } {
  const kept: Array<[string, unknown]> = [];
  const dropped: string[] = [];
  for (const [key, value] of entries) {
    if (keyKind(key) === 'mirrorlist' && blobsNamedBy(key, value).some((sha) => !Object.hasOwn(files, sha))) dropped.push(key);
    else kept.push([key, value]);
  }
  return { kept, dropped };
}

/** Counts the objects of a state. */
export function countState(entries: Iterable<[string, unknown]>): DumpCounts {
  const c: DumpCounts = { users: 0, indexes: 0, projects: 0, releases: 0, releasefiles: 0, doczips: 0, toxresults: 0, logEntries: 0, blobs: 0 };
  const list = [...entries];
  for (const [key, value] of list) {
    const kind = keyKind(key);
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
  c.blobs = blobsNamedByState(list).size;
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
