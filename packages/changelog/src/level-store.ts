/**
 * The narrow slice of abstract-level the changelog uses, and the two ways to get one: LevelDB on
 * disk (`level`) and its in-memory twin (`memory-level`). Both are opened with utf8 keys and
 * Uint8Array values; everything above this file runs the same code for both.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';
import { MemoryLevel } from 'memory-level';

/** One write of a batch. */
export type LevelOperation = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

/** Key range of an iteration (utf8 keys, LevelDB byte order). */
export interface LevelRange {
  gte?: string;
  lt?: string;
  lte?: string;
  reverse?: boolean;
  limit?: number;
}

/** What the changelog needs from a database. */
export interface LevelStore {
  get(key: string): Promise<Uint8Array | undefined>;
  batch(operations: LevelOperation[], options: { sync: boolean }): Promise<void>;
  iterator(range: LevelRange): AsyncIterable<[string, Uint8Array]>;
  keys(range: LevelRange): AsyncIterable<string>;
  close(): Promise<void>;
}

/** Whether `location` holds LevelDB files (its CURRENT file exists). */
export async function hasLevelFiles(location: string): Promise<boolean> {
  try {
    await access(join(location, 'CURRENT'));
    return true;
  } catch {
    return false;
  }
}

/** Open LevelDB at `location`. With createIfMissing false a missing database rejects. */
export async function openDiskStore(location: string, createIfMissing: boolean): Promise<LevelStore> {
  const db = new Level<string, Uint8Array>(location, { valueEncoding: 'view' });
  await db.open({ createIfMissing });
  return db;
}

/** Open a fresh, empty in-memory database. */
export async function openMemoryStore(): Promise<LevelStore> {
  const db = new MemoryLevel<string, Uint8Array>({ valueEncoding: 'view' });
  await db.open();
  return db;
}

/** Whether an open failed because another handle (this or another process) holds the LOCK. */
export function isLockedError(err: unknown): boolean {
  for (let e: unknown = err; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === 'LEVEL_LOCKED') return true;
  }
  return false;
}
