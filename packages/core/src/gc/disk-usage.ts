/**
 * Disk usage per index for `/+status`: the release files, doc zips and test results each stage's
 * `file/…` entries name, with their sizes as recorded at upload (bytes). A blob shared by several
 * indexes (a pushed release) counts in each; the whole store's bytes are the GC scan's.
 */
import { parseKey } from '../model/keys.js';
import type { FileEntry } from '../model/records.js';

/** Files and bytes of one index. */
export interface IndexUsage {
  files: number;
  bytes: number;
}

/** Usage per `user/index`, from the `file/…` entries of a state. */
export function diskUsageByIndex(entries: Iterable<readonly [string, unknown]>): Record<string, IndexUsage> {
  const out: Record<string, IndexUsage> = {};
  for (const [key, value] of entries) {
    if (!key.startsWith('file/')) continue;
    const parsed = parseKey(key);
    if (parsed?.kind !== 'file') continue;
    const stage = `${parsed.user}/${parsed.index}`;
    const u = (out[stage] ??= { files: 0, bytes: 0 });
    u.files++;
    u.bytes += (value as FileEntry).size ?? 0;
  }
  return out;
}
