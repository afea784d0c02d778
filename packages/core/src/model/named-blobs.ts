/**
 * Which stored blobs (content-addressed files, by sha256) a state entry names — the one answer the
 * replica's file replicator (what to fetch), the dump (what to copy) and garbage collection (what
 * to keep) share.
 */
import type { FileEntry, MirrorListRecord, ReleaseRecord } from './records.js';
import { keyKind } from './keys.js';

/**
 * The sha256s (lowercase hex) of every blob the value of `key` names, distinct, in a stable order:
 *
 * - `file/…` ({@link FileEntry}): the release file, doc zip or test result, and a wheel's METADATA
 *   blob (PEP 658);
 * - `release/…` ({@link ReleaseRecord}): each link's blob and METADATA blob (the same blobs its
 *   `file/…` entries name);
 * - `mirrorlist/…` ({@link MirrorListRecord}): the stored PEP 503 HTML and PEP 691 JSON pages;
 * - anything else (users, index configs, projects, `mirror/…` pages, whose sha256s are upstream's
 *   until a file is fetched and gets its own `file/…` entry), and a deletion (`null`): none.
 *
 * Decided by the key's kind alone ({@link keyKind}), so an entry whose key is otherwise odd still
 * keeps its blobs.
 */
export function blobsNamedBy(key: string, value: unknown): string[] {
  if (value === null || value === undefined) return [];
  const out = new Set<string>();
  const add = (sha: string | undefined): void => {
    if (typeof sha === 'string' && sha) out.add(sha);
  };
  switch (keyKind(key)) {
    case 'file': {
      const entry = value as FileEntry;
      add(entry.sha256);
      add(entry.metadata_sha256);
      break;
    }
    case 'release':
      for (const link of (value as ReleaseRecord).links ?? []) {
        add(link.sha256);
        add(link.metadata_sha256);
      }
      break;
    case 'mirrorlist': {
      const list = value as MirrorListRecord;
      add(list.html_sha256);
      add(list.json_sha256);
      break;
    }
    default:
      break;
  }
  return [...out];
}

/** The distinct sha256s every entry of a state names ({@link blobsNamedBy} over all of them). */
export function blobsNamedByState(entries: Iterable<readonly [string, unknown]>): Set<string> {
  const out = new Set<string>();
  for (const [key, value] of entries) for (const sha of blobsNamedBy(key, value)) out.add(sha);
  return out;
}
