/**
 * The HTTP server of a node: `node:http` with the keep-alive timeout a load balancer in front
 * expects (65 s, above the usual 60 s idle timeout of proxies, so the node never closes a
 * connection the proxy is about to reuse), devpi-client's `PUSH` method accepted
 * (`push-method.ts`), listening that reports the bound port and a loopback-reachable URL, an
 * optional `<datadir>/node.json` (`node-file.ts`) while listening, and a close that also ends
 * idle keep-alive connections.
 *
 * Timeouts are set deliberately (docs/operations.md, "Timeouts"): a request's headers must arrive
 * within `headersTimeout` (60 s, Node's default, against slowloris); a request body is limited by
 * inactivity, not total time — no byte for `requestIdleMs` (default 60 s) answers 408 and closes
 * the connection — so a 1 GiB upload at any steady rate goes through (Node's default 300 s
 * `requestTimeout` cut uploads slower than ~3.6 MB/s; it is off). Once the whole body arrived no
 * timeout of this server fires, so a committed upload is always answered by its handler.
 *
 * With `tls` the server is `node:https` with the PEM certificate and key (tls-files.ts), re-read by
 * `reloadTls()` (SIGHUP at the edge) without dropping a connection: new handshakes get the new
 * certificate, a failed reload keeps the old one. An optional plain HTTP port answers only 308
 * redirects to HTTPS; without it nothing is served in plain text.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { acceptPushMethod } from './push-method.js';
import { createRedirectServer, readTlsPair, type NodeTlsOptions, type TlsPair } from './tls-files.js';
import { removeNodeFile, writeNodeFile, type NodeFile } from './node-file.js';
import { NodeError } from './error-status.js';
import { answerError } from './respond.js';

/** Time a request's headers may take to arrive, ms (Node's default; slowloris protection). */
export const HEADERS_TIMEOUT_MS = 60_000;
/** Default longest pause in a request body, ms. */
export const REQUEST_IDLE_MS = 60_000;

/** Options of {@link createNodeServer}. */
export interface NodeServerOptions {
  /** Interface to listen on (`0.0.0.0`, `::`, a name or an address). */
  host: string;
  /** TCP port (0 = any free port). */
  port: number;
  handler: RequestListener;
  /** Accept devpi-client's `PUSH` method (default true). */
  acceptPush?: boolean;
  /** Write `<datadir>/node.json` while listening (master and replica; not the proxy). */
  nodeFile?: { datadir: string; role: NodeFile['role'] };
  /** Longest pause in a request body before 408, ms (default {@link REQUEST_IDLE_MS}). */
  requestIdleMs?: number;
  /** Serve HTTPS with these PEM files (see module doc); default plain HTTP. */
  tls?: NodeTlsOptions;
}

/** Where a node listens. */
export interface Bound {
  port: number;
  /** `http(s)://host:port`, the host reachable from this machine (see {@link httpUrl}, {@link reachableHost}). */
  url: string;
  /** The plain HTTP port that redirects to HTTPS, when there is one. */
  redirectPort?: number;
}

/** What a TLS reload did: the certificate now presented, or why the old one stays. */
export type TlsReload = { ok: true; pair: TlsPair } | { ok: false; error: Error };

/** A node's server (see module doc). */
export interface NodeServer {
  server: Server;
  /** Starts listening; rejects with the listen error (EADDRINUSE, …). */
  listen(): Promise<Bound>;
  /** Removes the node file, stops accepting, closes every connection; resolves once closed. */
  close(): Promise<void>;
  /** The certificate presented now (undefined without TLS). */
  readonly tls: TlsPair | undefined;
  /**
   * Re-reads the certificate and key files and presents them to new handshakes; on any error the
   * old ones stay and the error is returned (never thrown). Without TLS: `{ ok: false }`.
   */
  reloadTls(): TlsReload;
}

/** A host that reaches the interface from this machine: the wildcard addresses become 127.0.0.1. */
export function reachableHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

/** `http://host:port` (or `https://`), an IPv6 address in brackets (RFC 3986 §3.2.2). */
export function httpUrl(host: string, port: number, scheme: 'http' | 'https' = 'http'): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Listens on `port` of `host`; resolves to the bound port, rejects with the listen error. */
function listenOn(server: Server, host: string, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Builds a node's server (see module doc).
 * @throws TlsFileError when `tls` names files that cannot be read or do not belong together.
 */
export function createNodeServer(opts: NodeServerOptions): NodeServer {
  const idleMs = opts.requestIdleMs ?? REQUEST_IDLE_MS;
  const listener: RequestListener = (req, res) => {
    watchBodyIdle(req, res, idleMs);
    opts.handler(req, res);
  };
  let pair = opts.tls ? readTlsPair(opts.tls) : undefined;
  // an https.Server is an http.Server for everything this module and its callers use
  const server: Server = pair ? (createHttpsServer({ cert: pair.cert, key: pair.key }, listener) as unknown as Server) : createServer(listener);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = 0;
  if (opts.acceptPush !== false) acceptPushMethod(server, { tls: pair !== undefined });
  let boundPort = opts.port;
  const redirect = opts.tls?.redirectPort !== undefined ? createRedirectServer(() => boundPort, opts.tls.redirectBase) : undefined;
  return {
    server,
    get tls() {
      return pair;
    },
    listen: async () => {
      const port = await listenOn(server, opts.host, opts.port);
      boundPort = port;
      const redirectPort = redirect ? await listenOn(redirect, opts.host, opts.tls!.redirectPort!).catch(async (err: unknown) => {
        await closeServer(server);
        throw err;
      }) : undefined;
      const url = httpUrl(reachableHost(opts.host), port, pair ? 'https' : 'http');
      if (opts.nodeFile) await writeNodeFile(opts.nodeFile.datadir, { role: opts.nodeFile.role, url, pid: process.pid });
      return { port, url, ...(redirectPort !== undefined ? { redirectPort } : {}) };
    },
    close: async () => {
      if (opts.nodeFile) await removeNodeFile(opts.nodeFile.datadir);
      await Promise.all([closeServer(server), ...(redirect?.listening ? [closeServer(redirect)] : [])]);
    },
    reloadTls: () => {
      if (!opts.tls) return { ok: false, error: new Error('this node serves plain HTTP: no certificate to reload') };
      try {
        const next = readTlsPair(opts.tls);
        (server as unknown as HttpsServer).setSecureContext({ cert: next.cert, key: next.key });
        pair = next;
        return { ok: true, pair: next };
      } catch (err) {
        return { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
      }
    },
  };
}

/**
 * Arms the body inactivity timeout of one request that has a body: the socket's idle timer runs
 * until the body is complete (or the answer finished); when it fires first, 408 and the connection
 * is closed. Never fires once the whole body was received.
 */
function watchBodyIdle(req: IncomingMessage, res: ServerResponse, idleMs: number): void {
  const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody || idleMs <= 0) return;
  const socket = req.socket;
  const unlisten = (): void => {
    req.off('timeout', onIdle);
    res.off('timeout', onIdle);
  };
  // once the body is complete the idle timer goes; after the answer finished, node's own
  // keep-alive timer owns the socket, so the listeners go but the timer is left alone
  const disarm = (): void => {
    if (!res.writableFinished) socket.setTimeout(0);
    unlisten();
  };
  const onIdle = (): void => {
    disarm();
    if (req.complete) return;
    res.setHeader('Connection', 'close');
    answerError(res, new NodeError('EREQUESTTIMEOUT', `no byte of the request body arrived for ${idleMs} ms: the request was dropped and nothing was stored`));
    res.once('finish', () => socket.destroy());
    if (res.headersSent && !res.writableFinished) socket.destroy();
  };
  socket.setTimeout(idleMs);
  // on both: with a listener on either, node does not destroy the socket itself (e.g. once the body
  // is complete but not yet read to its end — a committed upload must still get its answer)
  req.on('timeout', onIdle);
  res.on('timeout', onIdle);
  req.once('end', disarm);
  res.once('finish', unlisten);
  res.once('close', unlisten);
}
