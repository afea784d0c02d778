/** Test helper: build the same Changelog on disk (temp dir) and in memory, so tests run against both. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryLevel } from 'memory-level';
import { Changelog } from './changelog.js';
import type { LevelStore } from './level-store.js';

/** A store under test and how to dispose of it. */
export interface TestStore {
  store: Changelog;
  dispose(): Promise<void>;
}

/** Kinds of store every behaviour test runs against. */
export const STORE_KINDS = ['memory', 'disk'] as const;

/** Open a fresh store of that kind (disk stores live in a new temp dir removed by dispose). */
export async function openTestStore(kind: (typeof STORE_KINDS)[number]): Promise<TestStore> {
  if (kind === 'memory') {
    const store = await Changelog.openInMemory();
    return { store, dispose: () => store.close() };
  }
  const dir = await makeTempDir();
  const store = await Changelog.open({ location: join(dir, 'db'), create: true });
  return {
    store,
    async dispose() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A new empty temp directory. */
export function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'wheelhouse-changelog-'));
}

/**
 * Test double of a LevelDB that fails batches on demand, over one memory-level database that
 * outlives `close` (so the changelog can "reopen" it, as it does a disk store after a failure).
 */
export class FailingStore {
  /** The database under the wrapper (survives reopen). */
  readonly inner = new MemoryLevel<string, Uint8Array>({ valueEncoding: 'view' });
  /** Batches still to fail, and how. */
  private failing: Array<{ message: string; land: boolean }> = [];
  /** Reopens still to fail (e.g. the disk is still full). */
  failReopens = 0;
  opens = 0;

  /** The next `count` batches reject with ENOSPC (`land`: the batch is written anyway, then the error is reported). */
  failNextBatches(count: number, opts: { land?: boolean; message?: string } = {}): void {
    for (let i = 0; i < count; i++) this.failing.push({ message: opts.message ?? 'IO error: /data/db/000005.log: No space left on device', land: opts.land ?? false });
  }

  /** The opener to give `Changelog.openWith`. */
  readonly open = async (): Promise<LevelStore> => {
    if (this.failReopens > 0 && this.opens > 0) {
      this.failReopens--;
      throw Object.assign(new Error('IO error: /data/db/MANIFEST-000007: No space left on device'), { code: 'LEVEL_IO_ERROR' });
    }
    this.opens++;
    if (this.inner.status !== 'open') await this.inner.open();
    const inner = this.inner;
    const store: LevelStore = {
      get: (key) => inner.get(key),
      iterator: (range) => inner.iterator(range),
      keys: (range) => inner.keys(range),
      close: async () => undefined,
      batch: async (operations, options) => {
        const failure = this.failing.shift();
        if (failure?.land) await inner.batch(operations, options as object);
        if (failure) throw Object.assign(new Error(failure.message), { code: 'LEVEL_IO_ERROR' });
        await inner.batch(operations, options as object);
      },
    };
    return store;
  };
}
