/**
 * An in-memory cache of small release files and `.metadata` files, keyed by sha256. Stored files
 * never change (content-addressed), so an entry can never be stale; serving a cached file is a
 * single `res.end(buffer)` instead of opening a read stream per request. Bounded by total bytes,
 * least recently used first out.
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
export class BlobCache {
  private readonly entries = new Map<string, Buffer>();
  private total = 0;
  readonly maxFileBytes: number;
  private readonly maxTotalBytes: number;

  constructor(opts: BlobCacheOptions = {}) {
    this.maxFileBytes = opts.maxFileBytes ?? 1024 * 1024;
    this.maxTotalBytes = opts.maxTotalBytes ?? 64 * 1024 * 1024;
  }

  /** The cached bytes, refreshed as most recently used. */
  get(sha256: string): Buffer | undefined {
    const hit = this.entries.get(sha256);
    if (hit) {
      this.entries.delete(sha256);
      this.entries.set(sha256, hit);
    }
    return hit;
  }

  /**
   * Reads a small file from `path` into the cache and returns it; rejects with the fs error
   * (ENOENT when the bytes are not here).
   */
  async load(sha256: string, path: string): Promise<Buffer> {
    const bytes = await readFile(path);
    if (bytes.length <= this.maxFileBytes && !this.entries.has(sha256)) {
      this.entries.set(sha256, bytes);
      this.total += bytes.length;
      for (const [key, value] of this.entries) {
        if (this.total <= this.maxTotalBytes) break;
        this.entries.delete(key);
        this.total -= value.length;
      }
    }
    return bytes;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.total;
  }
}
