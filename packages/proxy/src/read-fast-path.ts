/**
 * The proxy's connection-level path for reads (issue 13): a client connection is read as raw bytes;
 * a `GET` or `HEAD` in plain form (`http1-heads.ts`) goes to the backend the pool picks over a
 * kept-alive raw connection, its head rewritten once as text, and the backend's answer comes back
 * byte for byte — status line and headers relayed with only `Connection`/`Keep-Alive` dropped, the
 * body in the framing it came in, written straight into the client's socket with backpressure (at
 * most 256 KiB queued per client). No
 * `IncomingMessage`, `ServerResponse`, undici request or header object is made per request.
 *
 * Everything else is Node's: the first request that does not qualify (a write, an admin path (`/+status`…), a
 * request in an unusual form, a `Via` loop, no backend reachable at once under read-your-writes, a
 * backend over 256 requests in flight or reached over https) hands the connection — with the bytes
 * not yet answered — to the HTTP server's own connection listener, and it stays there. So do
 * reads that fail before their answer started: a refused or reset connection, no answer head
 * within `RETRY_POLICY.readHeadersTimeoutMs`, a 503, the backend marked down meanwhile
 * (`Backend.pending`). Each is judged by the same ejection and retry rules, and the request is
 * handed over with the backend it tried, so the router's attempt is the retry
 * (`ReadFastPath.takeTried`) and its answers (502, 503) are the usual ones. A connection reused from the pool
 * that turns out closed by the backend is retried once on a fresh one first (no verdict: the
 * request never reached the node). After the answer started, a failure cuts the client's
 * connection, as the other path does.
 *
 * Idle client connections close after 65 s (the node servers' keep-alive timeout), a request head
 * must arrive within 60 s (`HEADERS_TIMEOUT_MS`) and within 16 KiB (over it Node's parser takes it
 * and answers it); pipelined requests are answered in order, the client paused while 64 KiB wait.
 *
 * A backend connection reads into one buffer of its own (`net.connect`'s `onread`), reused for the
 * next read whenever the client's socket took the bytes at once; a buffer still queued for a slow
 * client is left to it and the next read gets a new one. A 1.7 MB file is 28 reads: without this
 * each read was a fresh 64 KiB allocation for the garbage collector.
 */
import { connect, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { HEADERS_TIMEOUT_MS } from '@wheelhouse/http';
import { isAdminPath } from './admin.js';
import type { Backend, BackendPool } from './backends.js';
import { ejectionVerdict } from './ejection-rule.js';
import { addedLines, addedLinesAreStock, ChunkedBodyEnd, fastReadRequest, parseAnswerHead, type AnswerHead, type FastReadRequest, type HeadContext } from './http1-heads.js';
import { BACKEND_WENT_DOWN, RETRY_POLICY } from './policy.js';
import type { AnswerCounter } from './proxy-metrics.js';
import { parseEpochHeader } from './read-your-writes.js';
import { retryDecision } from './retry-decision.js';

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
/** Longest request or answer head the fast path reads (Node's default `maxHeaderSize`), bytes. */
const MAX_HEAD_BYTES = 16_384;
/** Pipelined request bytes held while an answer is in flight before the client is paused, bytes. */
const MAX_PIPELINED_BYTES = 65_536;
/** Answer bytes queued for a slow client before the backend's socket is paused, bytes. */
const RELAY_BUFFER_BYTES = 262_144;
/** Size of a backend connection's read buffer, bytes (Node's own read size). */
const READ_BUFFER_BYTES = 65_536;
/** An idle client connection is closed after this long (the node servers' `keepAliveTimeout`), ms. */
const CLIENT_IDLE_MS = 65_000;
/** An idle backend connection is closed after this long (below the nodes' 65 s, so they never close one first), ms. */
const BACKEND_IDLE_MS = 30_000;
/** Idle connections kept per backend. */
const MAX_IDLE_PER_BACKEND = 64;
/** Requests in flight on one backend above which new connections take Node's path (undici queues there). */
const MAX_IN_FLIGHT_PER_BACKEND = 256;
/** Codes of a reused connection that the backend had closed: the request is sent again on a fresh one. */
const STALE_CONNECTION = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);
/** How often timeouts are checked, ms: one sweep over the connections instead of a timer per request. */
const SWEEP_MS = 1_000;

/** The path of a request target (without its query). */
function pathOf(target: string): string {
  const q = target.indexOf('?');
  return q < 0 ? target : target.slice(0, q);
}

/** What the fast path needs from the proxy. */
export interface ReadFastPathDeps {
  pool: BackendPool;
  /** This proxy's `Via` token. */
  viaToken: string;
  outsideUrl: string | undefined;
  /** `host:port` the proxy listens on. */
  listenAddress: string;
  scheme: 'http' | 'https';
  /** Counts an answer (shared with the other path). */
  counted: AnswerCounter;
  retries: { inc(): void };
  /** Records a read's time from request to the answer's end, seconds. */
  observeRead(seconds: number): void;
  /** Hands a connection to the HTTP server (its own `connection` / `secureConnection` listener). */
  handover(socket: Socket): void;
  /** Connections handed to the HTTP server (a request the fast path does not take, or a failed read's retry). */
  handovers: { inc(): void };
  log: Logger;
}

/** The fast path of one proxy. */
export interface ReadFastPath {
  /** Takes a new client connection (plain, or TLS after its handshake). */
  accept(socket: Socket): void;
  /**
   * The backend a read on `socket` already tried before it was handed over, once: the router's
   * first attempt is then the retry, elsewhere. Undefined for other connections.
   */
  takeTried(socket: Socket): Backend | undefined;
  /** Destroys every connection it holds, client and backend. */
  close(): void;
}

/** Builds the fast path (see module doc). */
export function createReadFastPath(deps: ReadFastPathDeps): ReadFastPath {
  const backends = new BackendConnections();
  const clients = new Set<ClientConnection>();
  const tried = new WeakMap<Socket, Backend>();
  const shared: Shared = { deps, backends, clients, tried, now: Date.now() };
  const sweep = setInterval(() => {
    const now = (shared.now = Date.now());
    for (const c of clients) c.sweep(now);
    backends.sweep(now);
  }, SWEEP_MS);
  sweep.unref();
  return {
    accept: (socket) => {
      clients.add(new ClientConnection(shared, socket));
    },
    takeTried: (socket) => {
      const b = tried.get(socket);
      if (b) tried.delete(socket);
      return b;
    },
    close: () => {
      clearInterval(sweep);
      for (const c of clients) c.destroy();
      clients.clear();
      backends.closeAll();
    },
  };
}

interface Shared {
  readonly deps: ReadFastPathDeps;
  readonly backends: BackendConnections;
  readonly clients: Set<ClientConnection>;
  readonly tried: WeakMap<Socket, Backend>;
  /** ms since epoch, as of the last sweep: the clock activity is stamped with (cheaper than a call per chunk). */
  now: number;
}

/** A backend's host and port for `net.connect`, or null when it is not plain HTTP. */
type Address = { host: string; port: number } | null;

/** Kept-alive raw connections per backend, the most recently used reused first. */
class BackendConnections {
  private readonly idle = new Map<Backend, BackendConnection[]>();
  private readonly addresses = new Map<Backend, Address>();

  /** Whether the fast path can reach `b` (plain HTTP). */
  reachable(b: Backend): boolean {
    return this.address(b) !== null;
  }

  /** An idle connection to `b`, or a new one (`reused`: it served before). */
  take(b: Backend): { conn: BackendConnection; reused: boolean } {
    const list = this.idle.get(b);
    for (let c = list?.pop(); c; c = list!.pop()) if (!c.socket.destroyed) return { conn: c, reused: true };
    return { conn: new BackendConnection(b, this.address(b)!, this), reused: false };
  }

  /** Keeps `conn` for reuse (or closes it when enough are idle); `now`: ms since epoch. */
  give(conn: BackendConnection, now: number): void {
    let list = this.idle.get(conn.backend);
    if (!list) this.idle.set(conn.backend, (list = []));
    if (list.length >= MAX_IDLE_PER_BACKEND) return void conn.socket.destroy();
    conn.idleSince = now;
    list.push(conn);
  }

  /** Closes connections idle for `BACKEND_IDLE_MS` at `now` (the oldest are at the bottom of each list). */
  sweep(now: number): void {
    for (const list of this.idle.values()) {
      while (list.length > 0 && now - list[0]!.idleSince > BACKEND_IDLE_MS) list.shift()!.socket.destroy();
    }
  }

  /** Drops a closed connection from the idle list. */
  forget(conn: BackendConnection): void {
    const list = this.idle.get(conn.backend);
    const i = list ? list.indexOf(conn) : -1;
    if (i >= 0) list!.splice(i, 1);
  }

  closeAll(): void {
    for (const list of this.idle.values()) for (const c of list.splice(0)) c.socket.destroy();
  }

  private address(b: Backend): Address {
    let a = this.addresses.get(b);
    if (a === undefined) {
      const u = new URL(b.url);
      a = u.protocol === 'http:' ? { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80) } : null;
      this.addresses.set(b, a);
    }
    return a;
  }
}

/** One raw connection to a backend; its events go to the client connection that owns it, if any. */
class BackendConnection {
  owner: ClientConnection | undefined;
  /** ms since epoch it went idle (while in the idle list). */
  idleSince = 0;
  readonly socket: Socket;
  /** The first failure seen (`error` event code, or the backend closing early). */
  private failure: string | undefined;
  /** The buffer the next read lands in; undefined: a new one (the last one is still queued for a client). */
  private buffer: Buffer | undefined;

  constructor(
    readonly backend: Backend,
    address: { host: string; port: number },
    pool: BackendConnections,
  ) {
    const socket = (this.socket = connect({
      ...address,
      noDelay: true,
      onread: { buffer: () => (this.buffer ??= Buffer.allocUnsafe(READ_BUFFER_BYTES)), callback: (n, buf) => this.onRead(buf.subarray(0, n) as Buffer) },
    }));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.failure ??= err.code ?? 'ECONNRESET';
    });
    socket.on('end', () => {
      if (this.owner?.onBackendEnd()) return;
      this.failure ??= 'UND_ERR_SOCKET';
    });
    socket.on('close', () => {
      pool.forget(this);
      const o = this.owner;
      this.owner = undefined;
      o?.onBackendGone(this.failure ?? 'UND_ERR_SOCKET');
    });
  }

  /** Bytes read into this connection's buffer: to the owner; the buffer is reused unless the owner still holds them. Always true (keep reading). */
  private onRead(chunk: Buffer): true {
    const o = this.owner;
    if (!o) {
      this.socket.destroy();
      return true;
    }
    try {
      o.onBackendData(chunk);
    } catch (err) {
      o.defect(err);
    }
    if (o.holdsBackendBytes()) this.buffer = undefined;
    return true;
  }
}

/** One client connection on the fast path, and the one exchange it has in flight. */
class ClientConnection {
  /** Client bytes not taken yet (a partial head, or pipelined requests). */
  private pending: Buffer | undefined;
  /** ms since epoch (sweep clock) when the partial head in `pending` began (0: none). */
  private headSince = 0;
  /** ms since epoch (sweep clock) of the last sign of life: client bytes, backend bytes, a drain, an answer's end. */
  private lastActive: number;
  private readonly head: HeadContext;
  /** The added header lines last made for a stock request (`addedLinesAreStock`), for this `Host` and epoch. */
  private stock: { host: string; epoch: number; bytes: Buffer } | undefined;
  private paused = false;
  private closeAfter = false;
  // the exchange in flight
  private req: FastReadRequest | undefined;
  /** The client's bytes of the request in flight (for a handover after a failure). */
  private requestBytes: Buffer | undefined;
  /** The request's own lines for the backend (the client's bytes, or the rewritten ones) and the added lines. */
  private backendHead: [Buffer, Buffer] | undefined;
  private b: Backend | undefined;
  private conn: BackendConnection | undefined;
  /** ms since epoch (sweep clock) the request went to the backend. */
  private sentAt = 0;
  private reused = false;
  private staleRetried = false;
  private answer: AnswerHead | undefined;
  private answerHeadPart: Buffer | undefined;
  private remaining = 0;
  private chunked: ChunkedBodyEnd | undefined;
  private started = 0;

  private readonly onData = (chunk: Buffer): void => {
    try {
      this.takeBytes(chunk);
    } catch (err) {
      this.defect(err);
    }
  };
  private readonly onEnd = (): void => {
    if (this.req) this.closeAfter = true;
    else this.socket.end();
  };
  private readonly onClose = (): void => this.clientGone();
  private readonly onError = (): void => {
    // 'close' follows
  };
  private readonly onDrain = (): void => {
    this.lastActive = this.shared.now;
    this.conn?.socket.resume();
  };

  constructor(
    private readonly shared: Shared,
    private readonly socket: Socket,
  ) {
    const d = shared.deps;
    this.lastActive = shared.now;
    this.head = { remoteAddress: socket.remoteAddress ?? '', viaToken: d.viaToken, outsideUrl: d.outsideUrl, listenAddress: d.listenAddress, scheme: d.scheme, epoch: 0 };
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
    socket.on('drain', this.onDrain);
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** A defect of this module met on this connection: logged, the connection and its exchange cut, the process kept. */
  defect(err: unknown): void {
    this.shared.deps.log.error({ err }, 'proxy read path: defect; connection closed');
    this.cut();
  }

  /** Cuts the exchange before its answer started: the backend was marked down (`BackendPool.markDown`). */
  abort(): void {
    if (this.conn && !this.answer) this.failBeforeAnswer(BACKEND_WENT_DOWN);
  }

  /**
   * Applies the timeouts at `now` (ms since epoch): an idle connection closes after
   * `CLIENT_IDLE_MS`, a partial head after `HEADERS_TIMEOUT_MS`; a request without an answer head
   * after `RETRY_POLICY.readHeadersTimeoutMs` fails over; an answer idle for
   * `RETRY_POLICY.readBodyIdleMs` is cut.
   */
  sweep(now: number): void {
    if (!this.req) {
      if (now - this.lastActive > CLIENT_IDLE_MS || (this.headSince > 0 && now - this.headSince > HEADERS_TIMEOUT_MS)) this.socket.destroy();
    } else if (this.conn && !this.answer) {
      if (now - this.sentAt > RETRY_POLICY.readHeadersTimeoutMs) this.failBeforeAnswer('UND_ERR_HEADERS_TIMEOUT');
    } else if (now - this.lastActive > RETRY_POLICY.readBodyIdleMs) this.cut();
  }

  private takeBytes(chunk: Buffer): void {
    this.lastActive = this.shared.now;
    this.pending = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    if (this.req) {
      if (this.pending.length > MAX_PIPELINED_BYTES && !this.paused) {
        this.paused = true;
        this.socket.pause();
      }
      return;
    }
    this.nextRequest();
  }

  /** Starts the next request in `pending`, or waits for the rest of its head, or hands the connection over. */
  private nextRequest(): void {
    const buf = this.pending;
    if (!buf) return;
    const end = buf.indexOf(HEAD_END);
    if (end < 0) {
      if (buf.length > MAX_HEAD_BYTES) return this.handover(buf);
      if (this.headSince === 0) this.headSince = this.shared.now;
      return;
    }
    this.headSince = 0;
    const headBytes = end + HEAD_END.length;
    if (headBytes > MAX_HEAD_BYTES) return this.handover(buf);
    const req = fastReadRequest(buf.toString('latin1', 0, end), this.shared.deps.viaToken);
    const b = req && !isAdminPath(pathOf(req.target)) && this.pick();
    if (!req || !b) return this.handover(buf);
    this.req = req;
    this.requestBytes = buf.subarray(0, headBytes);
    this.backendHead = [req.rewritten === undefined ? buf.subarray(0, end + 2) : Buffer.from(req.rewritten, 'latin1'), this.addedLines(req)];
    this.pending = headBytes < buf.length ? buf.subarray(headBytes) : undefined;
    this.closeAfter = req.close;
    this.started = performance.now();
    this.staleRetried = false;
    this.send(b);
  }

  /** The header lines the proxy adds to `req` (made once per connection for the usual request). */
  private addedLines(req: FastReadRequest): Buffer {
    const epoch = this.shared.deps.pool.highestEpoch;
    const stock = addedLinesAreStock(req);
    if (stock && this.stock?.host === req.host && this.stock.epoch === epoch) return this.stock.bytes;
    this.head.epoch = epoch;
    const bytes = Buffer.from(addedLines(req, this.head), 'latin1');
    if (stock) this.stock = { host: req.host, epoch, bytes };
    return bytes;
  }

  /** The backend for a read now, if the fast path can reach it. */
  private pick(): Backend | undefined {
    const { pool } = this.shared.deps;
    const b = pool.pickRead(pool.writeMark, undefined, Date.now());
    return b && b.outstanding < MAX_IN_FLIGHT_PER_BACKEND && this.shared.backends.reachable(b) ? b : undefined;
  }

  private send(b: Backend): void {
    const { conn, reused } = this.shared.backends.take(b);
    this.b = b;
    this.conn = conn;
    this.reused = reused;
    this.sentAt = this.shared.now;
    conn.owner = this;
    b.outstanding++;
    b.requests++;
    b.pending.add(this);
    const [own, added] = this.backendHead!;
    conn.socket.cork();
    conn.socket.write(own);
    conn.socket.write(added);
    conn.socket.uncork();
  }

  /** Whether bytes of the last backend read are still referenced: queued in the client's socket, or kept as a partial answer head. */
  holdsBackendBytes(): boolean {
    return this.socket.writableLength > 0 || this.answerHeadPart !== undefined;
  }

  onBackendData(chunk: Buffer): void {
    this.lastActive = this.shared.now;
    if (this.answer) return this.relay(chunk, 0, 0);
    const buf = this.answerHeadPart ? Buffer.concat([this.answerHeadPart, chunk]) : chunk;
    const end = buf.indexOf(HEAD_END);
    if (end < 0) {
      if (buf.length > MAX_HEAD_BYTES) return this.failBeforeAnswer('UND_ERR_HEADERS_OVERFLOW');
      this.answerHeadPart = buf;
      return;
    }
    this.answerHeadPart = undefined;
    const req = this.req!;
    const answer = parseAnswerHead(buf.toString('latin1', 0, end), req.method, this.closeAfter);
    if (!answer) return this.failBeforeAnswer('UND_ERR_INVALID_ANSWER');
    const b = this.b!;
    const { pool, counted } = this.shared.deps;
    b.pending.delete(this);
    b.noteSerial(answer.serial, answer.masterUuid);
    b.noteEpoch(parseEpochHeader(answer.epoch), answer.role);
    pool.noteVerdict(b, ejectionVerdict({ status: answer.status }));
    if (retryDecision({ method: req.method, result: { status: answer.status }, bytesSent: false, attempt: 0 }) === 'retry') {
      // "cannot serve this now" (503): the router tries another backend
      this.dropBackend(false);
      return this.handoverRequest(b);
    }
    counted(b, true, answer.status);
    this.answer = answer;
    if (answer.framing.kind === 'length') this.remaining = answer.framing.bytes;
    else if (answer.framing.kind === 'chunked') this.chunked = new ChunkedBodyEnd();
    const bodyFrom = end + HEAD_END.length;
    if (answer.clientHead === undefined) return this.relay(buf, bodyFrom, 0);
    this.socket.cork();
    this.socket.write(answer.clientHead, 'latin1');
    this.relay(buf, bodyFrom, bodyFrom);
    this.socket.uncork();
  }

  /**
   * Passes `chunk[writeFrom..]` of the answer to the client, up to the body's end (the body starts
   * at `bodyFrom`); completes the exchange there.
   */
  private relay(chunk: Buffer, bodyFrom: number, writeFrom: number): void {
    const framing = this.answer!.framing;
    let endAt = -1;
    if (framing.kind === 'none') endAt = bodyFrom;
    else if (framing.kind === 'length') {
      const n = chunk.length - bodyFrom;
      if (n >= this.remaining) endAt = bodyFrom + this.remaining;
      this.remaining = Math.max(0, this.remaining - n);
    } else if (framing.kind === 'chunked') {
      try {
        endAt = this.chunked!.feed(chunk, bodyFrom);
      } catch {
        return this.cut();
      }
    }
    const piece = endAt < 0 ? (writeFrom === 0 ? chunk : chunk.subarray(writeFrom)) : endAt === chunk.length && writeFrom === 0 ? chunk : chunk.subarray(writeFrom, endAt);
    // backpressure: the backend's socket is paused only once this much waits for the client (a pause and resume per 64 KiB read costs more than the copy)
    if (piece.length > 0 && !this.socket.write(piece) && this.socket.writableLength > RELAY_BUFFER_BYTES) this.conn!.socket.pause();
    if (endAt >= 0) this.complete(endAt === chunk.length);
  }

  /** The backend ended its side: the end of a close-delimited body (true), else a failure. */
  onBackendEnd(): boolean {
    if (this.answer?.framing.kind !== 'close') return false;
    this.complete(false);
    return true;
  }

  /** The backend connection closed while this exchange owned it. */
  onBackendGone(code: string): void {
    this.conn = undefined;
    if (this.answer) this.cut();
    else this.failBeforeAnswer(code);
  }

  /**
   * The exchange failed before any byte reached the client: a stale reused connection is retried
   * on a fresh one; otherwise the ejection rule judges the backend and the request goes to
   * Node's path with the backend it tried.
   */
  private failBeforeAnswer(code: string): void {
    const b = this.b!;
    this.dropBackend(false);
    this.answerHeadPart = undefined;
    if (this.reused && !this.staleRetried && STALE_CONNECTION.has(code)) {
      this.staleRetried = true;
      return this.send(b);
    }
    this.shared.deps.pool.noteVerdict(b, ejectionVerdict({ errorCode: code }));
    this.handoverRequest(b);
  }

  /** The answer reached its end: the backend connection goes back to the pool (when `reusable`), the next request starts. */
  private complete(reusable: boolean): void {
    this.dropBackend(reusable && this.answer!.keepAlive);
    this.shared.deps.observeRead((performance.now() - this.started) / 1000);
    this.req = undefined;
    this.requestBytes = undefined;
    this.backendHead = undefined;
    this.answer = undefined;
    this.chunked = undefined;
    this.lastActive = this.shared.now;
    if (this.closeAfter) return void this.socket.end();
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    this.nextRequest();
  }

  /** Ends this exchange's hold on its backend: the connection kept for reuse or closed. */
  private dropBackend(keep: boolean): void {
    const b = this.b;
    const conn = this.conn;
    if (!b) return;
    this.b = undefined;
    this.conn = undefined;
    b.outstanding--;
    b.pending.delete(this);
    if (!conn) return;
    conn.owner = undefined;
    if (keep) {
      conn.socket.resume();
      this.shared.backends.give(conn, this.shared.now);
    } else conn.socket.destroy();
  }

  /** The answer broke after it started: nothing can be retried or answered any more. */
  private cut(): void {
    this.dropBackend(false);
    this.socket.destroy();
  }

  private clientGone(): void {
    this.shared.clients.delete(this);
    this.dropBackend(false);
    this.req = undefined;
  }

  /** Hands the request in flight (and what the client sent after it) to Node's path, marked as tried on `b`. */
  private handoverRequest(b: Backend): void {
    this.shared.tried.set(this.socket, b);
    this.shared.deps.retries.inc();
    const bytes = this.pending ? Buffer.concat([this.requestBytes!, this.pending]) : this.requestBytes!;
    this.req = undefined;
    this.answer = undefined;
    this.handover(bytes);
  }

  /** Gives the connection, with the client bytes not answered yet, to the HTTP server for good. */
  private handover(bytes: Buffer): void {
    const { socket } = this;
    this.shared.clients.delete(this);
    this.shared.deps.handovers.inc();
    this.pending = undefined;
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('close', this.onClose);
    socket.off('error', this.onError);
    socket.off('drain', this.onDrain);
    this.shared.deps.handover(socket);
    if (bytes.length > 0) socket.emit('data', bytes);
    if (this.paused) socket.resume();
  }
}
