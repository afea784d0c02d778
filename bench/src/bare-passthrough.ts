/**
 * Reference server for the perf part: the least a Node reverse proxy can do — `node:http` in
 * front, undici's `dispatch()` to the backend at argv[2] over a keep-alive pool, the answer's
 * status, headers (hop-by-hop ones dropped) and body chunks passed to the client as they come, with
 * backpressure. No routing, health, retries, Via or metrics: what the Wheelhouse proxy costs above
 * this is its own. Prints its port on stdout; stops on SIGTERM.
 */
import { createServer } from 'node:http';
import { Agent, type Dispatcher } from 'undici';

const backend = process.argv[2];
if (!backend) {
  process.stderr.write('usage: bare-passthrough.js BACKEND-URL\n');
  process.exit(2);
}
const HOP = ['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate'];
const agent = new Agent({ keepAliveTimeout: 30_000, connections: 256 });
const server = createServer((req, res) => {
  const headers = { ...req.headers };
  for (const h of HOP) delete headers[h];
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart() {
      // undici tells the new handler API from the legacy one by this method
    },
    onResponseStart(_c, status, up) {
      for (const h of HOP) delete up[h];
      res.writeHead(status, up as Record<string, string | string[]>);
    },
    onResponseData(c, chunk) {
      if (!res.write(chunk)) {
        c.pause();
        res.once('drain', () => c.resume());
      }
    },
    onResponseEnd() {
      res.end();
    },
    onResponseError() {
      if (res.headersSent) res.destroy();
      else {
        res.statusCode = 502;
        res.end();
      }
    },
  };
  agent.dispatch({ origin: backend, path: req.url ?? '/', method: (req.method ?? 'GET') as Dispatcher.HttpMethod, headers: headers as Record<string, string> }, handler);
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
