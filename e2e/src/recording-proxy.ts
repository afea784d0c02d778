// A pass-through HTTP proxy that sits between pip and the master and records every exchange (path,
// Accept sent, status and Content-Type received). With `forceAccept` it rewrites the Accept header,
// which makes pip use the PEP 503 HTML pages even though pip 23 prefers PEP 691 JSON: so one test
// can prove pip installed over HTML and another that it installed over JSON. Bodies pass through
// untouched, so the recorded Content-Encoding is what the client received.
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';

export interface Exchange {
  readonly method: string;
  readonly path: string;
  /** The Accept header the client sent (before any rewrite). */
  readonly clientAccept: string | undefined;
  /** The Accept header forwarded to the master. */
  readonly forwardedAccept: string | undefined;
  readonly status: number;
  readonly contentType: string | undefined;
  /** The Accept-Encoding header the client sent. */
  readonly clientAcceptEncoding: string | undefined;
  /** The Content-Encoding of the answer (passed to the client as it came: the recorder never decodes). */
  readonly contentEncoding: string | undefined;
}

export class RecordingProxy {
  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly exchanges: Exchange[],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Exchanges for simple pages (paths containing `/+simple/`). */
  simpleExchanges(): Exchange[] {
    return this.exchanges.filter((e) => e.path.includes('/+simple'));
  }

  static start(targetPort: number, opts: { forceAccept?: string } = {}): Promise<RecordingProxy> {
    return new Promise((resolve, reject) => {
      const exchanges: Exchange[] = [];
      const server = createServer((req, res) => {
        const headers: IncomingHttpHeaders = { ...req.headers };
        const clientAccept = req.headers.accept;
        if (opts.forceAccept !== undefined) headers.accept = opts.forceAccept;
        const upstream = httpRequest(
          { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers },
          (up) => {
            exchanges.push({
              method: req.method ?? '',
              path: req.url ?? '',
              clientAccept,
              forwardedAccept: headers.accept,
              status: up.statusCode ?? 0,
              contentType: up.headers['content-type'],
              clientAcceptEncoding: req.headers['accept-encoding'],
              contentEncoding: up.headers['content-encoding'],
            });
            res.writeHead(up.statusCode ?? 502, up.statusMessage, up.headers);
            up.pipe(res);
          },
        );
        upstream.on('error', (err) => {
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`recording proxy: ${err.message}`);
        });
        req.pipe(upstream);
      });
      server.on('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const addr = server.address();
        if (addr === null || typeof addr === 'string') {
          reject(new Error('proxy has no port'));
          return;
        }
        resolve(new RecordingProxy(server, addr.port, exchanges));
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
