/**
 * The proxy's composition root and request path. Reads (GET/HEAD) go to healthy backends — replicas
 * first, least outstanding requests, the master as fallback — and a read that fails to connect, or
 * gets 502/503/504 before any byte reached the client, is retried once on another backend. Writes go
 * to the master and are never retried; with the master down they fail at once with 503 and
 * `Retry-After`. After a write the proxy sends reads only to backends that reached its serial
 * (read-your-writes). Bodies stream both ways with backpressure (flat memory for any size).
 * The proxy answers `/+status` (its backends) and `/+metrics` itself; `POST /+proxy/drain/{name}`
 * and `/+proxy/undrain/{name}` (from loopback only) switch a backend's drain for maintenance.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Agent, stream } from 'undici';
import { pino, type Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Backend, BackendPool } from './backends.js';
import { HealthChecker } from './health-checks.js';
import { DEFAULT_HEALTH_POLICY, RETRY_POLICY, type HealthPolicy } from './policy.js';
import { proxyStatusHtml } from './status-html.js';

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
  logger?: Logger;
}

/** A built proxy. */
export interface Proxy {
  server: Server;
  pool: BackendPool;
  /** Highest serial seen on a write response. */
  readonly writeSerial: number;
  listen(): Promise<number>;
  close(): Promise<void>;
}

const MASTER_DOWN = 'the master is unavailable: uploads and other changes are refused until it is back; installs keep working';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function sendJson(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body, null, 2) + '\n';
  const message = typeof body['message'] === 'string' ? body['message'] : undefined;
  if (message) res.statusMessage = message.replace(/[^\x20-\x7e]+/g, ' ').slice(0, 300);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** A sink that drops a body (a retried read's). */
function discard(): Writable {
  return new Writable({ write: (_c, _e, cb) => cb() });
}

/** A sink that keeps a small body in `into`. */
function collect(into: Buffer[]): Writable {
  return new Writable({
    write: (c: Buffer, _e, cb) => {
      into.push(c);
      cb();
    },
  });
}

function errorCode(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string }; message?: string };
  return e.cause?.code ?? e.code ?? e.message ?? 'error';
}

/** Builds the proxy (see module doc). */
export function createProxy(config: ProxyConfig): Proxy {
  const log = config.logger ?? pino({ level: 'info' });
  const policy: HealthPolicy = { ...DEFAULT_HEALTH_POLICY, ...config.health };
  const backends = [
    new Backend('master', config.master.replace(/\/+$/, ''), 'master'),
    ...config.replicas.map((url, i) => new Backend(`replica${i + 1}`, url.replace(/\/+$/, ''), 'replica')),
  ];
  const pool = new BackendPool(backends, policy);
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 256, connect: { timeout: 2_000 } });
  const checker = new HealthChecker(pool, policy, agent, log);
  const viaToken = `wheelhouse-proxy-${randomBytes(4).toString('hex')}`;
  const waitMs = config.readYourWritesWaitMs ?? 2_000;
  let writeSerial = -1;
  /** the master store UUID writeSerial counts in */
  let writeUuid = '';

  const registry = new Registry();
  const requests = new Counter({ name: 'wheelhouse_proxy_requests_total', help: 'requests by backend, kind and status class', labelNames: ['backend', 'kind', 'status'] as const, registers: [registry] });
  const retries = new Counter({ name: 'wheelhouse_proxy_retries_total', help: 'reads retried on another backend', registers: [registry] });
  const rejected = new Counter({ name: 'wheelhouse_proxy_unavailable_total', help: 'requests answered 503 by the proxy (no backend)', labelNames: ['kind'] as const, registers: [registry] });
  const latency = new Histogram({ name: 'wheelhouse_proxy_request_duration_seconds', help: 'time to response end', labelNames: ['kind'] as const, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30], registers: [registry] });
  for (const [name, help, value] of [
    ['wheelhouse_proxy_backend_up', 'backend usable (1) or not (0)', (b: Backend) => (b.usable(Date.now()) ? 1 : 0)],
    ['wheelhouse_proxy_backend_serial', 'last serial seen from the backend', (b: Backend) => b.serial],
    ['wheelhouse_proxy_backend_outstanding', 'requests in flight', (b: Backend) => b.outstanding],
    ['wheelhouse_proxy_backend_ejections', 'passive ejections since start', (b: Backend) => b.ejections],
  ] as const) {
    new Gauge({ name, help, labelNames: ['backend'] as const, registers: [registry], collect() { for (const b of backends) this.set({ backend: b.name }, value(b)); } });
  }

  const status = (): Record<string, unknown> => ({
    role: 'PROXY',
    'write-serial': writeSerial,
    backends: backends.map((b) => ({
      name: b.name,
      url: b.url,
      role: b.role,
      usable: b.usable(Date.now()),
      up: b.up,
      draining: b.draining,
      ejected: b.ejectedUntil > Date.now(),
      ejections: b.ejections,
      serial: b.serial,
      'lag-serials': b.role === 'replica' && pool.master && pool.master.serial >= 0 && b.serial >= 0 ? Math.max(0, pool.master.serial - b.serial) : null,
      outstanding: b.outstanding,
      requests: b.requests,
      'last-check': b.lastCheck ? new Date(b.lastCheck).toISOString() : null,
      'last-error': b.lastError ?? null,
    })),
  });

  /** Forwards to one backend. Returns 'retry' when a read may go elsewhere (nothing sent yet). */
  async function forward(b: Backend, req: IncomingMessage, res: ServerResponse, isRead: boolean): Promise<'done' | 'retry'> {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    const remote = req.socket.remoteAddress ?? '';
    const xff = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = xff ? `${String(xff)}, ${remote}` : remote;
    headers['x-forwarded-proto'] ??= 'http';
    headers['x-forwarded-host'] ??= req.headers.host ?? '';
    headers['x-outside-url'] ??= config.outsideUrl ?? `http://${req.headers.host ?? `${config.host}:${config.port}`}`;
    headers['via'] = req.headers.via ? `${req.headers.via}, 1.1 ${viaToken}` : `1.1 ${viaToken}`;
    const hasBody = !isRead && (req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined);
    const body = hasBody ? req.pipe(new PassThrough()) : null;
    b.outstanding++;
    b.requests++;
    const kind = isRead ? 'read' : 'write';
    const abort = new AbortController();
    if (isRead) b.pending.add(abort);
    // undici's stream(): the response body is written straight into the client's response (no
    // intermediate Readable or pipeline) — the proxy's per-request cost is mostly this hop
    let outcome = 'pipe' as 'pipe' | 'retry' | 'buffer';
    let status = 0;
    const collected: Buffer[] = [];
    let buffered: Record<string, string | string[]> = {};
    try {
      await stream(
        b.url + (req.url ?? '/'),
        {
          dispatcher: agent,
          method: req.method as 'GET',
          headers,
          body,
          signal: abort.signal,
          headersTimeout: isRead ? RETRY_POLICY.readHeadersTimeoutMs : 600_000,
          bodyTimeout: 600_000,
        },
        ({ statusCode, headers: up }) => {
          b.pending.delete(abort);
          status = statusCode;
          const serial = Number(one(up['x-devpi-serial']));
          const masterUuid = one(up['x-devpi-master-uuid']) ?? '';
          b.noteSerial(serial, masterUuid);
          if (isRead && RETRY_POLICY.statuses.has(statusCode)) {
            outcome = 'retry';
            pool.noteFailure(b);
            return discard();
          }
          if (statusCode >= 500) pool.noteFailure(b);
          else pool.noteSuccess(b);
          if (!isRead && statusCode < 400 && Number.isSafeInteger(serial)) {
            // serials of a new master (after an import) start over
            if (masterUuid && masterUuid !== writeUuid) {
              writeUuid = masterUuid;
              writeSerial = serial;
            } else if (serial > writeSerial) writeSerial = serial;
          }
          requests.inc({ backend: b.name, kind, status: `${Math.floor(statusCode / 100)}xx` });
          const out: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(up)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
          if (statusCode >= 400 && Number(one(up['content-length']) ?? Infinity) < 65_536) {
            // keep the message in the reason phrase (twine prints it; undici does not pass it on)
            outcome = 'buffer';
            delete out['content-length'];
            buffered = out;
            return collect(collected);
          }
          res.writeHead(statusCode, out);
          return res;
        },
      );
    } catch (err) {
      b.pending.delete(abort);
      if (res.headersSent) {
        // the body broke after it started: nothing can be retried or answered any more
        res.destroy();
        return 'done';
      }
      const code = abort.signal.aborted ? 'ABORTED_BACKEND_DOWN' : errorCode(err);
      if (RETRY_POLICY.notConnected.has(code)) pool.markDown(b);
      else pool.noteFailure(b);
      if (body) req.unpipe(body);
      if (isRead && (abort.signal.aborted || RETRY_POLICY.errorCodes.has(code))) return 'retry';
      log.warn({ backend: b.name, err: code, url: req.url }, 'backend request failed');
      req.resume();
      requests.inc({ backend: b.name, kind, status: '5xx' });
      if (!isRead && b.role === 'master' && RETRY_POLICY.notConnected.has(code)) {
        // the write never reached the master: the same clear answer as when it is known to be down
        rejected.inc({ kind: 'write' });
        sendJson(res, 503, { message: MASTER_DOWN }, { 'Retry-After': '10' });
      } else sendJson(res, 502, { message: `backend ${b.name} (${b.url}) failed: ${code}` });
      return 'done';
    } finally {
      b.outstanding--;
    }
    if (outcome === 'retry') return 'retry';
    if (outcome === 'buffer') {
      const text = Buffer.concat(collected);
      try {
        const message = (JSON.parse(text.toString('utf8')) as { message?: unknown }).message;
        if (typeof message === 'string') res.statusMessage = message.replace(/[^\x20-\x7e]+/g, ' ').slice(0, 300);
      } catch {
        // not JSON
      }
      res.writeHead(status, { ...buffered, 'content-length': String(text.length) });
      res.end(text);
    }
    return 'done';
  }

  async function pickReadWaiting(exclude: Set<Backend>): Promise<Backend | undefined> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const b = pool.pickRead(writeSerial, exclude, Date.now(), writeUuid);
      if (b || Date.now() >= deadline || exclude.size > 0) return b;
      // nobody has the serial yet (master down, replicas behind): hold the read briefly
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async function admin(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === '/+status' && req.method === 'GET' && /\btext\/html\b/.test(req.headers.accept ?? '')) {
      const page = proxyStatusHtml(status() as Parameters<typeof proxyStatusHtml>[0]);
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'", Vary: 'Accept', 'Content-Length': Buffer.byteLength(page) });
      return void res.end(page);
    }
    if (path === '/+status' && req.method === 'GET') return sendJson(res, 200, { type: 'status', result: status() });
    if (path === '/+metrics' && req.method === 'GET') {
      const text = await registry.metrics();
      res.writeHead(200, { 'Content-Type': registry.contentType });
      res.end(text);
      return;
    }
    const m = /^\/\+proxy\/(drain|undrain)\/([^/]+)$/.exec(path);
    const loopback = /^(127\.|::1$|::ffff:127\.)/.test(req.socket.remoteAddress ?? '');
    if (m && req.method === 'POST') {
      if (!loopback) return sendJson(res, 403, { message: 'drain switches are only accepted from loopback' });
      const b = backends.find((x) => x.name === m[2]);
      if (!b) return sendJson(res, 404, { message: `no backend '${m[2]}' (have: ${backends.map((x) => x.name).join(', ')})` });
      b.draining = m[1] === 'drain';
      log.warn({ backend: b.name, draining: b.draining }, 'drain switch');
      return sendJson(res, 200, { message: `${b.name} ${b.draining ? 'draining' : 'back in rotation'}`, type: 'status', result: status() });
    }
    sendJson(res, 404, { message: `not found: ${path}` });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/+status' || path === '/+metrics' || path.startsWith('/+proxy/')) return admin(req, res, path);
    if (String(req.headers.via ?? '').includes(viaToken)) return sendJson(res, 508, { message: `request loop: already passed through ${viaToken}` });
    const isRead = req.method === 'GET' || req.method === 'HEAD';
    if (!isRead) {
      const master = pool.pickWrite();
      if (!master) {
        req.resume();
        rejected.inc({ kind: 'write' });
        return sendJson(res, 503, { message: MASTER_DOWN }, { 'Retry-After': '10' });
      }
      await forward(master, req, res, false);
      return;
    }
    const tried = new Set<Backend>();
    for (let attempt = 0; attempt <= RETRY_POLICY.maxRetries; attempt++) {
      const b = await pickReadWaiting(tried);
      if (!b) break;
      if ((await forward(b, req, res, true)) === 'done') return;
      tried.add(b);
      retries.inc();
    }
    rejected.inc({ kind: 'read' });
    sendJson(res, 503, { message: `no backend can serve this read now (tried: ${[...tried].map((b) => b.name).join(', ') || 'none usable'})` }, { 'Retry-After': '2' });
  }

  const server = createServer((req, res) => {
    const start = process.hrtime.bigint();
    res.once('close', () => {
      latency.observe({ kind: req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'write' }, Number(process.hrtime.bigint() - start) / 1e9);
    });
    handle(req, res).catch((err: unknown) => {
      log.error({ err, url: req.url }, 'proxy error');
      sendJson(res, 500, { message: 'proxy error' });
    });
  });
  server.keepAliveTimeout = 65_000;

  return {
    server,
    pool,
    get writeSerial() {
      return writeSerial;
    },
    listen: async () => {
      await checker.checkAll();
      checker.start();
      return new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          const addr = server.address();
          resolve(typeof addr === 'object' && addr ? addr.port : config.port);
        });
      });
    },
    close: async () => {
      checker.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await agent.close();
    },
  };
}
