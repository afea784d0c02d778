/**
 * The proxy's composition root (STYLE #1, #19): builds the backend pool, the health checker, the
 * metrics, the forwarder, the admin routes and the request router, and serves them over HTTP.
 * Reads (GET/HEAD) go to healthy backends — replicas first, least outstanding requests, the master
 * as fallback — and a read that fails to connect, or gets 502/503/504 before any byte reached the
 * client, is retried once on another backend. Writes go to the master and are never retried; with
 * the master down they fail at once with 503 and `Retry-After`. After a write the proxy sends reads
 * only to backends that reached its serial (read-your-writes). Plain reads take the connection-level
 * path (`read-fast-path.ts`), everything else Node's HTTP server and the router. The decisions live in their own
 * modules: `backends.ts` (selection, ejection, rise/fall), `retry-decision.ts`, `ejection-rule.ts`,
 * `read-your-writes.ts`, `admin.ts`, `forward-headers.ts`.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Agent } from 'undici';
import { pino, type Logger } from 'pino';
import { createNodeServer, guard, trustedCaContext, type NodeServer, type NodeTlsOptions, type TlsReload } from '@wheelhouse/http';
import { createAdminHandler } from './admin.js';
import { Backend, BackendPool, isReadMethod } from './backends.js';
import { createForwarder } from './forward.js';
import { HealthChecker } from './health-checks.js';
import { DEFAULT_HEALTH_POLICY, type HealthPolicy } from './policy.js';
import { createProxyMetrics } from './proxy-metrics.js';
import { createReadFastPath } from './read-fast-path.js';
import { createRequestRouter } from './route-request.js';

/** Configuration of a proxy. */
export interface ProxyConfig {
  host: string;
  /** TCP port (0 = any). */
  port: number;
  /** The master's URL. */
  master: string;
  /** Replica URLs. */
  replicas: string[];
  /** URL clients reach the proxy at (sent to nodes as `X-outside-url`); default from each request's Host. */
  outsideUrl?: string;
  /** Health and ejection numbers (defaults: `DEFAULT_HEALTH_POLICY`). */
  health?: Partial<HealthPolicy>;
  /** How long a read waits for a backend that reached the required serial when none has, ms (default 2,000). */
  readYourWritesWaitMs?: number;
  /** Serve HTTPS with these PEM files, optionally a redirecting plain port (docs/operations.md, "TLS"). */
  tls?: NodeTlsOptions;
  /** PEM CA file trusted (besides Node's roots) for https backends (`--tls-ca`). */
  tlsCaFile?: string;
  logger?: Logger;
}

/** A built proxy. */
export interface Proxy {
  server: Server;
  pool: BackendPool;
  /** Highest serial seen on a write response (-1 none). */
  readonly writeSerial: number;
  /**
   * Automatic failover: etcd names `url` the master of `epoch` (`BackendPool.noteLeader`); a round
   * of health checks follows at once. Returns false when no backend has that URL.
   */
  noteLeader(url: string, epoch: number): boolean;
  /** Runs one round of health checks, starts periodic ones, listens; resolves to the bound port. */
  listen(): Promise<number>;
  /** Stops checks, closes the server and its connections, then the backend agent. */
  close(): Promise<void>;
  /** Re-reads the TLS certificate and key (SIGHUP); a failure keeps the old ones (node-server.ts). */
  reloadTls(): TlsReload;
}

/**
 * Builds the proxy (see module doc).
 * @throws TlsFileError when the TLS or CA files cannot be used.
 */
export function createProxy(config: ProxyConfig): Proxy {
  const log = config.logger ?? pino({ level: 'info' });
  const policy: HealthPolicy = { ...DEFAULT_HEALTH_POLICY, ...config.health };
  const pool = new BackendPool(
    [
      new Backend('master', config.master.replace(/\/+$/, ''), 'master'),
      ...config.replicas.map((url, i) => new Backend(`replica${i + 1}`, url.replace(/\/+$/, ''), 'replica')),
    ],
    policy,
  );
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 256, connect: { timeout: 2_000, ...(config.tlsCaFile ? { secureContext: trustedCaContext(config.tlsCaFile) } : {}) } });
  const checker = new HealthChecker(pool, policy, agent, log);
  const metrics = createProxyMetrics(pool.backends);
  const viaToken = `wheelhouse-proxy-${randomBytes(4).toString('hex')}`;
  const listenAddress = `${config.host}:${config.port}`;
  const forward = createForwarder({ pool, dispatcher: agent, metrics, log, viaToken, outsideUrl: config.outsideUrl, listenAddress, ...(config.tls ? { scheme: 'https' as const } : {}) });
  const admin = createAdminHandler({ pool, registry: metrics.registry, log });
  // label children resolved once: observe() then skips hashing the labels per request
  const latency = { read: metrics.latency.labels({ kind: 'read' }), write: metrics.latency.labels({ kind: 'write' }) };
  let handover: (socket: Socket) => void = () => undefined;
  const fast = createReadFastPath({
    pool, viaToken, outsideUrl: config.outsideUrl, listenAddress, scheme: config.tls ? 'https' : 'http', counted: metrics.countAnswer, retries: metrics.retries,
    observeRead: (seconds) => latency.read.observe(seconds),
    handover: (socket) => handover(socket),
    handovers: metrics.handovers,
    log,
  });
  const route = createRequestRouter({ pool, forward, admin, metrics, viaToken, readYourWritesWaitMs: config.readYourWritesWaitMs ?? 2_000, takeTried: (req) => fast.takeTried(req.socket) });
  const http = serveHttp(config, log, route, (req, seconds) => latency[isReadMethod(req.method) ? 'read' : 'write'].observe(seconds));
  handover = takeConnections(http.server, config.tls !== undefined, (socket) => fast.accept(socket));

  return {
    server: http.server,
    pool,
    get writeSerial() {
      return pool.writeMark.serial;
    },
    noteLeader: (url, epoch) => {
      const b = pool.noteLeader(url, epoch);
      if (b) log.warn({ url, epoch, backend: b.name }, 'etcd names a new master; writes go there');
      else log.error({ url, epoch }, 'etcd names a master that is not among the backends (give it as --replica)');
      if (b) void checker.confirmLeader(b);
      return b !== undefined;
    },
    listen: async () => {
      await checker.checkAll();
      checker.start();
      return (await http.listen()).port;
    },
    close: async () => {
      checker.stop();
      const closed = http.close();
      fast.close();
      await closed;
      await agent.close();
    },
    reloadTls: () => http.reloadTls(),
  };
}

/**
 * Puts `accept` (the connection-level read path) in front of the HTTP server's own connection
 * listener — `connection`, or `secureConnection` after the TLS handshake — and returns what hands a
 * connection on to that listener.
 */
function takeConnections(server: Server, tls: boolean, accept: (socket: Socket) => void): (socket: Socket) => void {
  const event = tls ? 'secureConnection' : 'connection';
  const own = server.listeners(event) as ((socket: Socket) => void)[];
  server.removeAllListeners(event);
  server.on(event, accept);
  return (socket) => {
    for (const listener of own) listener.call(server, socket);
  };
}

/**
 * The HTTP server around `handle`, the node server every role shares (keep-alive, devpi's `PUSH`
 * method, listen/close): each exchange is timed to its close (`observe`, seconds) and a rejected
 * handler becomes a logged 500, or a cut connection once headers went out (`guard`, STYLE #16).
 */
function serveHttp(
  config: { host: string; port: number; tls?: NodeTlsOptions },
  log: Logger,
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  observe: (req: IncomingMessage, seconds: number) => void,
): NodeServer {
  const guarded = guard(log, handle);
  return createNodeServer({
    host: config.host,
    port: config.port,
    ...(config.tls ? { tls: config.tls } : {}),
    handler: (req, res) => {
      const start = performance.now();
      res.once('close', () => observe(req, (performance.now() - start) / 1000));
      guarded(req, res);
    },
  });
}
