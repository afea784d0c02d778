/**
 * Content-addressed file store for release files:
 *   <root>/sha256/<hex[0:2]>/<hex[2:4]>/<hex>   the files, named by the sha256 of their content
 *   <root>/tmp/                                   temp files being written (removed by cleanTemp)
 * A file is streamed into a temp file while hashing, fsynced, then renamed into place, so a path
 * under sha256/ only ever holds complete content with that hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { IntegrityError, TooLargeError, storageError } from './errors.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Options of `FileStore.put`. */
export interface PutOptions {
  /** Expected sha256 hex of the content; a mismatch throws IntegrityError (case-insensitive). */
  expectedSha256?: string;
  /** Expected size in bytes; a mismatch throws IntegrityError. */
  expectedSize?: number;
  /** Largest accepted size in bytes, checked while streaming; more throws TooLargeError. */
  maxBytes?: number;
}

/** Content-addressed file store rooted at a directory (see file header for the layout). */
export class FileStore {
  /** Root directory. */
  readonly root: string;
  private readonly tmpDir: string;
  private failedWrites = 0;

  constructor(root: string) {
    this.root = root;
    this.tmpDir = join(root, 'tmp');
  }

  /** Failed disk writes (staging, fsync, rename) since construction (a metric). */
  get failures(): number {
    return this.failedWrites;
  }

  /**
   * Runs a disk write; its error becomes DiskFullError (ENOSPC, 507) or StorageFailedError (503)
   * naming this store's root and `what`, and is counted.
   */
  async diskWrite<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      this.failedWrites++;
      throw storageError(this.root, what, err);
    }
  }

  /** Path of the file with this sha256 (lowercase hex, 64 chars). Throws TypeError on anything else. */
  pathFor(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new TypeError(`not a lowercase sha256 hex digest: ${JSON.stringify(sha256)}`);
    return join(this.root, 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  /** Whether the file with this sha256 is stored. */
  async has(sha256: string): Promise<boolean> {
    return (await this.stat(sha256)) !== undefined;
  }

  /** Size (bytes) and modification time (ms since epoch) of a stored file, or undefined when absent. */
  async stat(sha256: string): Promise<{ size: number; mtimeMs: number } | undefined> {
    try {
      const info = await stat(this.pathFor(sha256));
      return { size: info.size, mtimeMs: info.mtimeMs };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Stream source into a temp file while hashing, fsync, rename into place (if already present,
   * just drop the temp). Returns the content's sha256 hex and size in bytes.
   * expectedSha256 / expectedSize mismatch → IntegrityError; more than maxBytes → TooLargeError
   * (checked while streaming; the source is not read further). On any error (including one thrown
   * by the source) the temp file is removed and nothing is left behind.
   */
  async put(source: AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<{ sha256: string; size: number }> {
    const staged = await this.stage(source, opts);
    await staged.commit();
    return { sha256: staged.sha256, size: staged.size };
  }

  /**
   * The first half of put(): the content is streamed into a fsynced temp file, hashed and checked
   * (same options and errors as put), but not yet in the store. The caller checks it (e.g. reads a
   * wheel's METADATA from `path`), then `commit()`s it into place or `discard()`s it. Used by
   * uploads, so a refused upload leaves nothing behind.
   */
  async stage(source: AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<StagedFile> {
    const expectedSha256 = opts.expectedSha256?.toLowerCase();
    if (expectedSha256 !== undefined) this.pathFor(expectedSha256);
    await this.diskWrite('creating the staging directory', () => mkdir(this.tmpDir, { recursive: true }));
    const tmpPath = join(this.tmpDir, `${randomBytes(12).toString('hex')}.tmp`);
    try {
      const handle = await this.diskWrite('staging an upload', () => open(tmpPath, 'wx'));
      const hash = createHash('sha256');
      let size = 0;
      try {
        for await (const chunk of source) {
          size += chunk.length;
          if (opts.maxBytes !== undefined && size > opts.maxBytes) throw new TooLargeError(opts.maxBytes);
          hash.update(chunk);
          let written = 0;
          while (written < chunk.length) {
            const { bytesWritten } = await this.diskWrite('staging an upload', () => handle.write(chunk, written, chunk.length - written));
            written += bytesWritten;
          }
        }
        await this.diskWrite('fsync of a staged upload', () => handle.sync());
      } finally {
        await handle.close();
      }
      const sha256 = hash.digest('hex');
      if (opts.expectedSize !== undefined && size !== opts.expectedSize) throw new IntegrityError('size', String(opts.expectedSize), String(size));
      if (expectedSha256 !== undefined && sha256 !== expectedSha256) throw new IntegrityError('sha256', expectedSha256, sha256);
      return new StagedFile(this, tmpPath, sha256, size);
    } catch (err) {
      await rm(tmpPath, { force: true });
      throw err;
    }
  }

  /** Moves a staged temp file into place (internal to StagedFile.commit). */
  async adopt(tmpPath: string, sha256: string): Promise<void> {
    if (await this.touch(sha256)) {
      await unlink(tmpPath);
      return;
    }
    const dir = join(this.root, 'sha256', sha256.slice(0, 2), sha256.slice(2, 4));
    await this.diskWrite(`storing file ${sha256}`, async () => {
      await mkdir(dir, { recursive: true });
      await rename(tmpPath, this.pathFor(sha256));
    });
    await syncDirectory(dir);
  }

  /**
   * Refreshes the mtime of a stored file; false when absent. Storing content that is already here
   * touches it, so garbage collection (which keeps files touched within its grace period and checks
   * again after moving a file aside) never removes a file a write is about to name.
   */
  async touch(sha256: string): Promise<boolean> {
    const now = new Date();
    try {
      await utimes(this.pathFor(sha256), now, now);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** put() for content already in memory; returns at once when that content is already stored. */
  async putBytes(bytes: Uint8Array, opts: { expectedSha256?: string } = {}): Promise<{ sha256: string; size: number }> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const expected = opts.expectedSha256?.toLowerCase();
    if (expected !== undefined && expected !== sha256) {
      this.pathFor(expected);
      throw new IntegrityError('sha256', expected, sha256);
    }
    if (await this.touch(sha256)) return { sha256, size: bytes.length };
    return this.put(oneChunk(bytes), { expectedSha256: sha256 });
  }

  /** The whole content of a stored file. Rejects with the fs ENOENT error when absent. */
  async readBytes(sha256: string): Promise<Uint8Array> {
    return readFile(this.pathFor(sha256));
  }

  /** Remove a stored file (no-op when absent). */
  async delete(sha256: string): Promise<void> {
    await rm(this.pathFor(sha256), { force: true });
  }

  /** Remove temp files left by a crash. Call at start-up, before any put. */
  async cleanTemp(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.tmpDir);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    await Promise.all(names.map((name) => rm(join(this.tmpDir, name), { force: true, recursive: true })));
  }
}

/** A complete, verified temp file not yet in the store (see FileStore.stage). */
export class StagedFile {
  private settled = false;
  constructor(
    private readonly store: FileStore,
    /** The temp file's path (readable until commit or discard). */
    readonly path: string,
    /** sha256 hex of the content. */
    readonly sha256: string,
    /** bytes */
    readonly size: number,
  ) {}

  /** Moves the file into the store (idempotent; the content may already be there). */
  async commit(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    try {
      await this.store.adopt(this.path, this.sha256);
    } catch (err) {
      await rm(this.path, { force: true });
      throw err;
    }
  }

  /** Removes the temp file (no-op after commit). */
  async discard(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    await rm(this.path, { force: true });
  }
}

async function* oneChunk(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/** fsync a directory so a rename into it is durable (best effort: not supported everywhere). */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms cannot fsync a directory; the rename itself is still atomic.
  }
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
}
