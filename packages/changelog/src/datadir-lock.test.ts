import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LOCK_FILE, lockDataDir } from './datadir-lock.js';
import { DataDirInUseError, NotInitialisedError } from './errors.js';
import { makeTempDir } from './test-stores.js';

/** pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

describe('data directory lock', () => {
  it('writes the pid, refuses a second holder while a live process has it, and releases', async () => {
    const dir = await makeTempDir();
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await writeFile(join(dir, LOCK_FILE), `${sleeper.pid}\n`);
      assert.throws(() => lockDataDir(dir), (err: unknown) => {
        assert.ok(err instanceof DataDirInUseError);
        assert.equal(err.message, `data directory ${dir} is in use by process ${sleeper.pid}`);
        return true;
      });
      await rm(join(dir, LOCK_FILE));
      const lock = lockDataDir(dir);
      assert.equal((await readFile(lock.path, 'utf8')).trim(), String(process.pid));
      lock.release();
      await assert.rejects(readFile(lock.path));
    } finally {
      sleeper.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes over a stale lock of a dead pid', async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, LOCK_FILE), `${await deadPid()}\n`);
    const lock = lockDataDir(dir);
    assert.equal((await readFile(lock.path, 'utf8')).trim(), String(process.pid));
    lock.release();
    await rm(dir, { recursive: true, force: true });
  });

  it('a missing data directory is NotInitialisedError', () => {
    assert.throws(() => lockDataDir('/nonexistent/wheelhouse-datadir'), NotInitialisedError);
  });
});
