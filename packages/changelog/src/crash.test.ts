/**
 * Crash safety: a writer process killed with SIGKILL mid-stream never leaves a torn commit.
 * After each kill the store must reopen with every printed (= acknowledged) serial present,
 * no gap in the records, and state that matches the records exactly.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Changelog } from './changelog.js';
import { decodeRecord } from './record-codec.js';
import { makeTempDir } from './test-stores.js';

const writerScript = fileURLToPath(new URL('./crash-writer.js', import.meta.url));

/** Run the writer until it has printed `killAfter` more serials, SIGKILL it; returns the last printed serial. */
function runAndKill(location: string, killAfter: number, extraDelayMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writerScript, location], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    let printed = 0;
    let last = -1;
    let stderr = '';
    let killing = false;
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      buffered += text;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        last = Number(line);
        printed++;
      }
      if (printed >= killAfter && !killing) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), extraDelayMs);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited with ${code ?? signal}: ${stderr}`));
      else resolve(last);
    });
  });
}

describe('crash safety', () => {
  it('SIGKILL during a tight commit loop, three times, never loses an acknowledged commit or tears one', { timeout: 20_000 }, async () => {
    const dir = await makeTempDir();
    const location = join(dir, 'db');
    let uuid: string | undefined;
    let previousHead = -1;
    for (const [killAfter, extraDelayMs] of [[300, 0], [217, 3], [355, 1]] as const) {
      const lastPrinted = await runAndKill(location, killAfter, extraDelayMs);
      const store = await Changelog.open({ location });
      try {
        uuid ??= store.uuid;
        assert.equal(store.uuid, uuid);
        assert.ok(store.head >= lastPrinted, `head ${store.head} < last acknowledged ${lastPrinted}`);
        assert.equal(store.get('counter'), store.head);
        let expected = 0;
        for await (const { serial, bytes } of store.changesSince(0)) {
          assert.equal(serial, expected);
          assert.equal(decodeRecord(bytes).serial, serial);
          expected++;
        }
        assert.equal(expected, store.head + 1);
        assert.equal(store.children('item').length, store.head + 1);
        assert.equal(store.get<{ serial: number }>(`item/${store.head}`)?.serial, store.head);
        assert.ok(store.head + 1 >= previousHead + 1 + killAfter, 'each run commits at least killAfter records');
        previousHead = store.head;
      } finally {
        await store.close();
      }
    }
    await rm(dir, { recursive: true, force: true });
  });
});
