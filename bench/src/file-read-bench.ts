/**
 * `node bench/dist/file-read-bench.js [BYTES]` (issue 13): how a large release file is best read
 * from disk and sent by Node — fs.createReadStream at 64 KiB (fs's default), 256 KiB and 1 MiB
 * reads (what nodes use: MAX_READ_BYTES), a FileHandle opened once with positional reads, and the
 * bytes from memory as the ceiling — each in its own bare node:http child loaded with wrk (1
 * thread, 32 connections, 5 s). Prints req/s, bytes/s and CPU µs per request of the server. A
 * tool beside the perf part, not a part of `npm run bench`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildServer } from './child-server.js';
import { measure } from './wrk-run.js';

const bytes = Number(process.argv[2] ?? 1_700_000);
const dir = mkdtempSync(join(tmpdir(), 'wh-file-read-'));
const file = join(dir, 'big.whl');
writeFileSync(file, randomBytes(bytes));
const modes = ['stream-64', 'stream-256', 'stream-1024', 'handle-1024', 'memory'];
const rows: string[] = ['| read | req/s | MB/s | server CPU µs/request |', '|---|---:|---:|---:|'];
try {
  for (const mode of modes) {
    const s = await ChildServer.start('file-read-server.js', [mode, file]);
    try {
      await measure(`${s.url}/f`, {}, { connections: 32, durationSeconds: 1 }, {});
      const o = await measure(`${s.url}/f`, {}, { connections: 32, durationSeconds: 5 }, { server: s });
      rows.push(`| ${mode} | ${Math.round(o.requestsPerSecond)} | ${(o.bytesPerSecond / 1e6).toFixed(0)} | ${Math.round(o.cpuMicros['server'] ?? NaN)} |${o.note ? ` ${o.note}` : ''}`);
    } finally {
      await s.stop();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`file of ${bytes} bytes\n${rows.join('\n')}\n`);
