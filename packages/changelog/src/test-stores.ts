/** Test helper: build the same Changelog on disk (temp dir) and in memory, so tests run against both. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Changelog } from './changelog.js';

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
