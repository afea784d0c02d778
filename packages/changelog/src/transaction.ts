/**
 * The read/write view handed to a `Changelog.write` function. Writes are buffered in an overlay
 * (last write of a key wins) and reads see them; nothing reaches the store until the function
 * returns and the changelog commits the overlay as one record.
 */
import type { Change } from './change-record.js';
import { type CurrentState, parentOf } from './current-state.js';
import { type PlainData, toPlainData } from './plain-data.js';

/** Read/write view given to a write function; reads see the transaction's own pending writes. */
export interface Transaction {
  /** The serial this transaction will commit as (head + 1 when it started). */
  readonly serial: number;
  /** The record's timestamp, ms since the epoch (taken when the transaction started). */
  readonly at: number;
  /** Value of key (pending write, else current state), deep-frozen; undefined when absent. */
  get<T = unknown>(key: string): T | undefined;
  /** Sorted keys whose parent (key up to its last '/') is `parent`, including pending writes. */
  children(parent: string): string[];
  /**
   * Set key to value. value must be plain msgpack-encodable data (null, boolean, number, string,
   * arrays, plain objects), not null/undefined itself; it is copied (object keys sorted,
   * undefined properties dropped) so later changes to the caller's object do not leak in.
   * Throws TypeError on an empty key or a non-plain value, Error once the transaction has ended.
   */
  set(key: string, value: unknown): void;
  /** Delete key (a no-op at commit when the key does not exist). Throws Error once the transaction has ended. */
  delete(key: string): void;
}

/** Transaction implementation over a CurrentState; `seal()` ends it and returns its changes. */
export class PendingTransaction implements Transaction {
  readonly serial: number;
  readonly at: number;
  private readonly state: CurrentState;
  /** key -> new value, or null for a delete. */
  private readonly pending = new Map<string, PlainData | null>();
  private sealed = false;

  constructor(serial: number, at: number, state: CurrentState) {
    this.serial = serial;
    this.at = at;
    this.state = state;
  }

  get<T = unknown>(key: string): T | undefined {
    const value = this.pending.get(key);
    if (value === undefined) return this.state.get(key) as T | undefined;
    return value === null ? undefined : (value as T);
  }

  children(parent: string): string[] {
    const base = this.state.children(parent);
    let added = false;
    let removed = false;
    const result = new Set(base);
    for (const [key, value] of this.pending) {
      if (parentOf(key) !== parent) continue;
      if (value === null) removed = result.delete(key) || removed;
      else if (!result.has(key)) {
        result.add(key);
        added = true;
      }
    }
    if (!added && !removed) return base;
    return added ? [...result].sort() : [...result];
  }

  set(key: string, value: unknown): void {
    this.assertOpen();
    assertKey(key);
    if (value === null || value === undefined) throw new TypeError(`cannot set ${key} to ${String(value)}; use delete()`);
    this.pending.set(key, toPlainData(value, key));
  }

  delete(key: string): void {
    this.assertOpen();
    assertKey(key);
    this.pending.set(key, null);
  }

  /** End the transaction: later set/delete throw. Returns the effective changes sorted by key
   *  (deletes of keys absent from the current state are dropped). */
  seal(): Change[] {
    this.sealed = true;
    const changes: Change[] = [];
    for (const [key, value] of this.pending) {
      if (value === null && !this.state.has(key)) continue;
      changes.push({ key, value });
    }
    return changes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private assertOpen(): void {
    if (this.sealed) throw new Error(`transaction ${this.serial} has ended; set/delete must happen inside the write function`);
  }
}

function assertKey(key: string): void {
  if (typeof key !== 'string' || key === '') throw new TypeError('changelog keys must be non-empty strings');
}
