/**
 * One process per data directory: `<datadir>/wheelhouse.lock` holds the pid of the node that owns
 * the directory, created with O_EXCL (`wx`). A lock whose pid is dead (or a zombie, or this very
 * pid — a container restarting with the same pid) is stale and taken over; a live one makes
 * `lockDataDir` throw DataDirInUseError("data directory D is in use by process N"). Released on
 * close and, best effort, at process exit; a node killed with SIGKILL leaves a stale lock behind,
 * which the next start takes over.
 * Limitation: two processes taking over the same stale lock at the same instant could both unlink
 * it; the re-read after writing makes the loser see the winner's pid in nearly every case.
 */
import { openSync, readFileSync, unlinkSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataDirInUseError, NotInitialisedError } from './errors.js';

/** Name of the lock file inside a data directory. */
export const LOCK_FILE = 'wheelhouse.lock';

/** A held data-directory lock. */
export interface DataDirLock {
  /** Path of the lock file. */
  readonly path: string;
  /** Removes the lock file if it still holds this process's pid. Idempotent. */
  release(): void;
}

/**
 * Takes the lock of `datadir` (which must exist: else NotInitialisedError). Throws
 * DataDirInUseError when a live process holds it. Synchronous (start-up only).
 */
export function lockDataDir(datadir: string): DataDirLock {
  const dir = resolve(datadir);
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new NotInitialisedError(dir);
      if (code !== 'EEXIST') throw err;
      const holder = readPid(path);
      if (holder !== undefined && holder !== process.pid && isAlive(holder)) throw new DataDirInUseError(dir, holder);
      try {
        unlinkSync(path); // stale: its process is gone
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const holder = readPid(path);
    if (holder !== process.pid) {
      if (holder !== undefined && isAlive(holder)) throw new DataDirInUseError(dir, holder);
      continue;
    }
    return heldLock(path);
  }
  throw new DataDirInUseError(dir, readPid(path));
}

function heldLock(path: string): DataDirLock {
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    if (readPid(path) !== process.pid) return;
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  };
  process.on('exit', release);
  return { path, release };
}

/** The pid in a lock file, or undefined when absent or not a pid. */
function readPid(path: string): number | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid runs (a zombie does not count: it exited, its parent has not reaped it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no procfs: trust kill(0)
  }
}
