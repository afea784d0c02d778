/**
 * Child server of `file-read-bench.ts`: answers every GET with the file argv[3], read the way
 * argv[2] names — `stream-<KiB>` (fs.createReadStream with that highWaterMark, opened per request,
 * as a node serves a stored release file), `handle-<KiB>` (one FileHandle opened at start, a
 * positional read stream of it per request), `memory` (the bytes held in memory: the ceiling).
 * Prints its port on stdout; stops on SIGTERM.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer } from 'node:http';

const [mode, file] = [process.argv[2] ?? '', process.argv[3] ?? ''];
const size = statSync(file).size;
const kib = Number(/-(\d+)$/.exec(mode)?.[1] ?? 64) * 1024;
const handle = mode.startsWith('handle-') ? await open(file, 'r') : undefined;
const bytes = mode === 'memory' ? readFileSync(file) : undefined;
const server = createServer((_req, res) => {
  res.writeHead(200, ['Content-Type', 'application/zip', 'Content-Length', String(size)]);
  if (bytes) return void res.end(bytes);
  const stream = handle
    ? handle.createReadStream({ start: 0, end: size - 1, highWaterMark: kib, autoClose: false, emitClose: false })
    : createReadStream(file, { highWaterMark: kib });
  stream.pipe(res);
  res.once('close', () => stream.destroy());
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
