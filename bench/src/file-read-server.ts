/**
 * Child server of `file-read-bench.ts`: answers every GET with the file argv[3], read the way
 * argv[2] names — `stream-<KiB>` (fs.createReadStream with that highWaterMark, opened per request,
 * as a node serves a stored release file), `handle-<KiB>` (one FileHandle opened at start,
 * positional reads of it per request), `memory` (the bytes held in memory: the ceiling).
 * Prints its port on stdout; stops on SIGTERM.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';

const [mode, file] = [process.argv[2] ?? '', process.argv[3] ?? ''];
const size = statSync(file).size;
const kib = Number(/-(\d+)$/.exec(mode)?.[1] ?? 64) * 1024;
const handle = mode.startsWith('handle-') ? await open(file, 'r') : undefined;
const bytes = mode === 'memory' ? readFileSync(file) : undefined;
const server = createServer((_req, res) => {
  res.writeHead(200, ['Content-Type', 'application/zip', 'Content-Length', String(size)]);
  if (bytes) return void res.end(bytes);
  if (handle) return void sendFromHandle(handle, res).catch(() => res.destroy());
  const stream = createReadStream(file, { highWaterMark: kib });
  stream.pipe(res);
  res.once('close', () => stream.destroy());
});

/** Positional reads of the shared handle (a FileHandle's own read stream closes it at its end), `kib` at a time, with backpressure. */
async function sendFromHandle(h: FileHandle, res: ServerResponse): Promise<void> {
  for (let pos = 0; pos < size && !res.destroyed; ) {
    const buf = Buffer.allocUnsafe(Math.min(kib, size - pos));
    const { bytesRead } = await h.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
    if (!res.write(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead))) await new Promise((r) => res.once('drain', r));
  }
  res.end();
}
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
