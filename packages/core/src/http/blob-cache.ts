/**
 * An in-memory cache of small release files and `.metadata` files, keyed by sha256. Stored files
 * never change (content-addressed), so an entry can never be stale; serving a cached file is a
 * single `res.end(buffer)` instead of opening a read stream per request. Bounded by total bytes;
 * eviction is second-chance (CLOCK, an approximation of least recently used): a hit only marks
 * its entry, and the oldest entries are dropped unless marked since they were last looked at —
 * marked ones go to the back unmarked. A hit then costs one map lookup, not a delete and a
 * re-insert.
 */
import { readFile } from 'node:fs/promises';

/** Options of the cache. */
export interface BlobCacheOptions {
  /** Largest file kept, bytes (default 1 MiB). */
  maxFileBytes?: number;
  /** Total bytes kept (default 64 MiB). */
  maxTotalBytes?: number;
}

/** The cache (see module doc). */
/** A cached file: its bytes and whether it was read since eviction last passed it. */
interface Entry {
  bytes: Buffer;
  used: boolean;
}

export class BlobCache {
  private readonly entries = new Map<string, Entry>();
  private total = 0;
  readonly maxFileBytes: number;
  private readonly maxTotalBytes: number;

  constructor(opts: BlobCacheOptions = {}) {
    this.maxFileBytes = opts.maxFileBytes ?? 1024 * 1024;
    this.maxTotalBytes = opts.maxTotalBytes ?? 64 * 1024 * 1024;
  }

  /** The cached bytes (marked as used: see module doc). */
  get(sha256: string): Buffer | undefined {
    const hit = this.entries.get(sha256);
    if (hit === undefined) return undefined;
    hit.used = true;
    return hit.bytes;
  }

  /**
   * Reads a small file from `path` into the cache and returns it; rejects with the fs error
   * (ENOENT when the bytes are not here).
   */
  async load(sha256: string, path: string): Promise<Buffer> {
    const bytes = await readFile(path);
    if (bytes.length <= this.maxFileBytes && !this.entries.has(sha256)) {
      // marked: a file just loaded is not the next one out (it would be whenever every other was used)
      this.entries.set(sha256, { bytes, used: true });
      this.total += bytes.length;
      this.evict();
    }
    return bytes;
  }

  /** Drops entries, oldest first, until the total fits; a used one gets a second chance at the back, unmarked. */
  private evict(): void {
    // each pass either drops an entry or unmarks one, so at most two rounds over the entries
    while (this.total > this.maxTotalBytes) {
      const oldest = this.entries.entries().next();
      if (oldest.done) return;
      const [key, entry] = oldest.value;
      this.entries.delete(key);
      if (entry.used) {
        entry.used = false;
        this.entries.set(key, entry);
      } else this.total -= entry.bytes.length;
    }
  }

  /** Bytes held. */
  get bytes(): number {
    return this.total;
  }
}
