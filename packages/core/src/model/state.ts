import type { Transaction } from '@wheelhouse/changelog';

/**
 * Read access to the current state: what both the changelog (committed state) and a write
 * transaction (committed state plus its own pending writes) offer. Model read functions take this,
 * so the same code answers a GET and checks a write inside its transaction.
 */
export interface StateReader {
  get<T = unknown>(key: string): T | undefined;
  /** Sorted keys whose parent (the key up to its last `/`) is `parent`. */
  children(parent: string): string[];
}

/** A write transaction of the changelog (see `@wheelhouse/changelog`). */
export type WriteTx = Transaction;
