/**
 * Calibration target: a bare `node:http` handler answering every request with the same bytes (read
 * once from the file given as argv[2]). Run as a child process by the benchmark; prints its port on
 * stdout. Loading it with the same generator shows what the machine allows under the same
 * conditions (generator and server sharing the cores).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const bodyFile = process.argv[2];
const contentType = process.argv[3] ?? 'text/html; charset=utf-8';
if (!bodyFile) {
  process.stderr.write('usage: bare-http-server.js BODY-FILE [CONTENT-TYPE]\n');
  process.exit(2);
}
const body = readFileSync(bodyFile);
const server = createServer((_req, res) => {
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', body.length);
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
