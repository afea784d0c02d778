/**
 * One attempt at one backend: the client's request streamed to it with undici's low-level
 * `dispatch()` (a handler, no stream objects, AbortController or promise chain per request: each
 * chunk of the answer is written straight into the client's response, the backend's socket paused
 * while the client's is full, so memory stays flat for any size) and its answer back. Headers are rewritten on the way
 * (`forward-headers.ts`); the serial an answer carries feeds read-your-writes; every result
 * before the first byte to the client goes through the ejection rule; a retryable failure
 * (`retryDecision`) sends nothing to the client and leaves the next step to the caller. A node's
 * answer — any status — goes to the client with its body unchanged. An in-flight request is
 * registered in its backend's `pending` set until its answer starts, so `BackendPool.markDown`
 * cancels it when the backend goes down (failed health checks: a hung master is down within
 * about 2.5 s) — a read is then retried, a write answered 504. A write the master neither answers
 * nor takes body bytes of for `WRITE_TIMEOUTS.stallMs` (60 s) while passing its checks is answered
 * 504 too. A client that goes
 * away cancels its exchange; that counts against nobody.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { isReadMethod, type Backend, type BackendPool } from './backends.js';
import { errorCodeOf, type BackendResult } from './backend-result.js';
import { ejectionVerdict } from './ejection-rule.js';
import { backendRequestHeaderList, firstValue, HOP_BY_HOP, requestHasBody, type HeaderMap } from './forward-headers.js';
import { answerError, toReasonPhrase } from '@wheelhouse/http';
import { backendFailed, masterDown, masterStalled } from './json-answer.js';
import { BACKEND_WENT_DOWN, CLIENT_WENT_AWAY, RETRY_POLICY, WRITE_TIMEOUTS } from './policy.js';
import type { ProxyMetrics } from './proxy-metrics.js';
import { parseEpochHeader } from './read-your-writes.js';
import { retryDecision } from './retry-decision.js';

/** Error answers with a body under this many bytes are buffered to lift their JSON `message` into the reason phrase. */
const REASON_BODY_MAX_BYTES = 65_536;

/**
 * What became of an attempt: `done` (the client got an answer, or its connection was cut), or the
 * retry decision for a retryable failure (`retry`: try another backend; `exhausted`: no more
 * attempts) — in both of those nothing reached the client.
 */
export type ForwardOutcome = 'done' | 'retry' | 'exhausted';

/** Forwards `req` to `b` as attempt number `attempt` (0 first) and answers `res` unless retryable. */
export type Forward = (b: Backend, req: IncomingMessage, res: ServerResponse, attempt: number) => Promise<ForwardOutcome>;

/** What a forwarder needs. */
export interface ForwardDeps {
  pool: BackendPool;
  /** undici dispatcher (the proxy's keep-alive agent). */
  dispatcher: Dispatcher;
  metrics: Pick<ProxyMetrics, 'countAnswer' | 'rejected'>;
  log: Logger;
  /** This proxy's `Via` token. */
  viaToken: string;
  /** `X-outside-url` to send (default: from each request's `Host`). */
  outsideUrl: string | undefined;
  /** `host:port` the proxy listens on, for `X-outside-url` without a `Host`. */
  listenAddress: string;
  /** The scheme clients reach the proxy with (`https` when it serves TLS; default `http`). */
  scheme?: 'http' | 'https';
  /** A write's stall timeout, ms (default `WRITE_TIMEOUTS.stallMs`; tests shorten it). */
  writeStallMs?: number;
}

/** How the answer's body is taken: streamed to the client, kept (a small error answer), or dropped (a retried read). */
type BodyMode = 'pipe' | 'buffer' | 'discard';

/** What every exchange of one forwarder shares. */
interface ForwardContext {
  readonly pool: BackendPool;
  readonly metrics: ForwardDeps['metrics'];
  readonly log: Logger;
  readonly stallMs: number;
}

/** Builds the forwarder (see module doc). */
export function createForwarder(deps: ForwardDeps): Forward {
  const { pool, dispatcher, metrics, log } = deps;
  const client = { viaToken: deps.viaToken, outsideUrl: deps.outsideUrl, listenAddress: deps.listenAddress, ...(deps.scheme ? { scheme: deps.scheme } : {}) };
  const ctx: ForwardContext = {
    pool,
    metrics,
    log,
    stallMs: deps.writeStallMs ?? WRITE_TIMEOUTS.stallMs,
  };
  return (b, req, res, attempt) => {
    const method = req.method ?? 'GET';
    const isRead = isReadMethod(method);
    const headers = backendRequestHeaderList(req.headers, req.socket.remoteAddress ?? '', client);
    // the highest epoch seen: a superseded master that hears it fences itself (never trusted from clients: the list leaves theirs out)
    if (pool.highestEpoch > 0) headers.push('x-wheelhouse-epoch', String(pool.highestEpoch));
    const body = requestHasBody(isRead, req.headers) ? req.pipe(new PassThrough()) : null;
    return new Promise<ForwardOutcome>((resolve) => {
      const exchange = new Exchange(ctx, b, req, res, method, isRead, attempt, body, resolve);
      dispatcher.dispatch(
        {
          origin: b.url,
          path: req.url ?? '/',
          method: method as Dispatcher.HttpMethod,
          headers,
          body,
          headersTimeout: isRead ? RETRY_POLICY.readHeadersTimeoutMs : ctx.stallMs,
          bodyTimeout: isRead ? RETRY_POLICY.readBodyIdleMs : WRITE_TIMEOUTS.answerIdleMs,
        },
        exchange,
      );
    });
  };
}

/**
 * One attempt at one backend as undici's dispatch handler — one object per attempt, its methods on
 * the prototype (no closures per request beyond the client-close listener). Registered in the
 * backend's `pending` set until the answer starts: `BackendPool.markDown` cuts it through
 * {@link Exchange.abort}.
 */
class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  /** Why the proxy cut the exchange (the client left, or the backend went down), if it did. */
  private cutReason: (Error & { code?: string }) | undefined;
  private mode: BodyMode = 'pipe';
  private outcome: ForwardOutcome = 'done';
  private status = 0;
  private buffered: HeaderMap | undefined;
  private collected: Buffer[] | undefined;
  private finished = false;
  private readonly onClientClose = (): void => {
    // the client left (or the server itself answered it, e.g. 408 for a stalled body) before the exchange ended
    this.abort(Object.assign(new Error('the client went away'), { code: CLIENT_WENT_AWAY }));
  };
  private resumeBackend: (() => void) | undefined;

  constructor(
    private readonly ctx: ForwardContext,
    private readonly b: Backend,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly method: string,
    private readonly isRead: boolean,
    private readonly attempt: number,
    private readonly body: PassThrough | null,
    private readonly resolve: (o: ForwardOutcome) => void,
  ) {
    b.outstanding++;
    b.requests++;
    b.pending.add(this);
    res.once('close', this.onClientClose);
  }

  /** Cuts the exchange (`reason` without a code: the backend went down). */
  abort(reason?: Error): void {
    this.cutReason ??= reason ?? new Error(`backend ${this.b.name} went down`);
    this.controller?.abort(this.cutReason);
  }

  private finish(o: ForwardOutcome): void {
    if (this.finished) return;
    this.finished = true;
    this.b.outstanding--;
    this.b.pending.delete(this);
    this.res.off('close', this.onClientClose);
    this.resolve(o);
  }

  onRequestStart(c: Dispatcher.DispatchController): void {
    this.controller = c;
    if (this.cutReason) c.abort(this.cutReason);
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, up: IncomingHttpHeaders): void {
    const { b, ctx } = this;
    b.pending.delete(this);
    this.status = statusCode;
    const serial = Number(firstValue(up['x-devpi-serial']));
    const masterUuid = firstValue(up['x-devpi-master-uuid']) ?? '';
    b.noteSerial(serial, masterUuid);
    b.noteEpoch(parseEpochHeader(up['x-wheelhouse-epoch']), firstValue(up['x-wheelhouse-role']));
    const result: BackendResult = { status: statusCode };
    ctx.pool.noteVerdict(b, ejectionVerdict(result));
    const decision = retryDecision({ method: this.method, result, bytesSent: false, attempt: this.attempt });
    if (decision !== 'answer') {
      this.outcome = decision;
      this.mode = 'discard';
      return;
    }
    if (!this.isRead) ctx.pool.noteWriteAnswer(statusCode, { serial, masterUuid });
    ctx.metrics.countAnswer(b, this.isRead, statusCode);
    if (statusCode >= 400 && Number(firstValue(up['content-length']) ?? Infinity) < REASON_BODY_MAX_BYTES) {
      // keep the message in the reason phrase (twine prints it; undici does not pass it on)
      this.mode = 'buffer';
      const out = withoutHopByHopInPlace(up as HeaderMap);
      delete out['content-length'];
      this.buffered = out;
      this.collected = [];
      return;
    }
    this.res.writeHead(statusCode, clientHeaderList(up));
  }

  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.mode === 'pipe') {
      // backpressure: the backend's socket is paused while the client's is full
      if (!this.res.write(chunk)) {
        c.pause();
        this.res.once('drain', (this.resumeBackend ??= () => this.controller?.resume()));
      }
    } else if (this.mode === 'buffer') this.collected!.push(chunk);
  }

  onResponseEnd(): void {
    if (this.mode === 'pipe') this.res.end();
    else if (this.mode === 'buffer') answerBuffered(this.res, this.status, this.buffered!, Buffer.concat(this.collected!));
    this.finish(this.outcome);
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (this.finished) return;
    const { b, ctx, req, res, body } = this;
    b.pending.delete(this);
    const code = this.cutReason ? (this.cutReason.code ?? BACKEND_WENT_DOWN) : errorCodeOf(err);
    if (code === CLIENT_WENT_AWAY) {
      if (body) req.unpipe(body);
      res.destroy();
      return this.finish('done');
    }
    if (res.headersSent) {
      // the body broke after it started: nothing can be retried or answered any more
      res.destroy();
      return this.finish('done');
    }
    if (this.mode === 'discard') return this.finish(this.outcome);
    const result: BackendResult = { errorCode: code };
    ctx.pool.noteVerdict(b, ejectionVerdict(result));
    if (body) req.unpipe(body);
    const decision = retryDecision({ method: this.method, result, bytesSent: false, attempt: this.attempt });
    if (decision !== 'answer') return this.finish(decision);
    this.answerFailure(code);
    this.finish('done');
  }

  /** Answers a transport failure before any byte reached the client (after the retry decision said `answer`). */
  private answerFailure(code: string): void {
    const { b, ctx, req, res, isRead } = this;
    ctx.log.warn({ backend: b.name, err: code, url: req.url }, 'backend request failed');
    req.resume();
    ctx.metrics.countAnswer(b, isRead, 500);
    if (!isRead && b.role === 'master' && RETRY_POLICY.notConnected.has(code)) {
      // the write never reached the master: the same clear answer as when it is known to be down
      ctx.metrics.rejected.inc({ kind: 'write' });
      answerError(res, masterDown());
    } else if (!isRead && (code === 'UND_ERR_HEADERS_TIMEOUT' || code === BACKEND_WENT_DOWN)) {
      answerError(res, masterStalled(b.name, b.url, code === BACKEND_WENT_DOWN ? 'its health checks failed' : `no progress for ${ctx.stallMs} ms`));
    } else answerError(res, backendFailed(b.name, b.url, code));
  }
}

/** A backend's parsed answer headers as the flat `[name, value, …]` list `writeHead` takes, hop-by-hop ones left out. */
function clientHeaderList(up: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const k in up) {
    const v = up[k];
    if (v === undefined || HOP_BY_HOP.has(k)) continue;
    if (typeof v === 'string') out.push(k, v);
    else for (const one of v) out.push(k, one);
  }
  return out;
}

/** Removes hop-by-hop headers from a backend's parsed answer headers (an object undici made for this answer only). */
function withoutHopByHopInPlace(headers: HeaderMap): HeaderMap {
  for (const h of HOP_BY_HOP) if (headers[h] !== undefined) delete headers[h];
  return headers;
}

/** Sends a buffered error answer, its JSON `message` (if any) as the reason phrase. */
function answerBuffered(res: ServerResponse, status: number, headers: HeaderMap, text: Buffer): void {
  try {
    const message = (JSON.parse(text.toString('utf8')) as { message?: unknown }).message;
    if (typeof message === 'string') res.statusMessage = toReasonPhrase(message);
  } catch {
    // not JSON
  }
  res.writeHead(status, { ...headers, 'content-length': String(text.length) });
  res.end(text);
}
