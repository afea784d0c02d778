/**
 * Reference server for the perf part: a bare `node:http` handler answering each path with constant
 * bytes held in memory (every file under argv[2], read once; `dir/` is `dir/index.html` or
 * `dir/index.json` as the static layout of the perf part has them). The ceiling of Node's HTTP
 * server on this machine for the same bytes: no routing, no storage, no headers beyond type and
 * length. Prints its port on stdout; stops on SIGTERM.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, relative } from 'node:path';

const root = process.argv[2];
if (!root) {
  process.stderr.write('usage: bare-static-server.js ROOT\n');
  process.exit(2);
}
const TYPES: Record<string, string> = { html: 'text/html', json: 'application/vnd.pypi.simple.v1+json' };
const files = new Map<string, { body: Buffer; type: string }>();
const walk = (dir: string): void => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else {
      const ext = name.slice(name.lastIndexOf('.') + 1);
      const url = `/${relative(root, p)}`.replace(/\/index\.(html|json)$/, '/');
      files.set(url, { body: readFileSync(p), type: TYPES[ext] ?? 'application/octet-stream' });
    }
  }
};
walk(root);
const server = createServer((req, res) => {
  const f = files.get(req.url ?? '/');
  if (!f) {
    res.statusCode = 404;
    res.end();
    return;
  }
  res.setHeader('Content-Type', f.type);
  res.setHeader('Content-Length', f.body.length);
  res.end(f.body);
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
