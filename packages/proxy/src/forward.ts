/**
 * One attempt at one backend: the client's request streamed to it with undici (`stream()`: the
 * answer's body is written straight into the client's response, with backpressure, so memory
 * stays flat for any size) and its answer back. Headers are rewritten on the way
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
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough, Writable } from 'node:stream';
import { stream, type Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { isReadMethod, type Backend, type BackendPool } from './backends.js';
import { errorCodeOf, type BackendResult } from './backend-result.js';
import { ejectionVerdict } from './ejection-rule.js';
import { backendRequestHeaders, clientResponseHeaders, firstValue, requestHasBody, type HeaderMap } from './forward-headers.js';
import { answerError, toReasonPhrase } from '@wheelhouse/http';
import { backendFailed, masterDown, masterStalled } from './json-answer.js';
import { BACKEND_WENT_DOWN, CLIENT_WENT_AWAY, RETRY_POLICY, WRITE_TIMEOUTS } from './policy.js';
import type { ProxyMetrics } from './proxy-metrics.js';
import { parseEpochHeader, serialFromHeaders } from './read-your-writes.js';
import { retryDecision } from './retry-decision.js';

/** Body timeout of reads (the answer's body idle while the client takes it), ms. */
const SLOW_EXCHANGE_MS = 600_000;
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
  metrics: Pick<ProxyMetrics, 'requests' | 'rejected'>;
  log: Logger;
  /** This proxy's `Via` token. */
  viaToken: string;
  /** `X-outside-url` to send (default: from each request's `Host`). */
  outsideUrl: string | undefined;
  /** `host:port` the proxy listens on, for `X-outside-url` without a `Host`. */
  listenAddress: string;
  /** A write's stall timeout, ms (default `WRITE_TIMEOUTS.stallMs`; tests shorten it). */
  writeStallMs?: number;
}

/** Builds the forwarder (see module doc). */
export function createForwarder(deps: ForwardDeps): Forward {
  const { pool, dispatcher, metrics, log } = deps;
  const stallMs = deps.writeStallMs ?? WRITE_TIMEOUTS.stallMs;
  return async (b, req, res, attempt) => {
    const method = req.method ?? 'GET';
    const isRead = isReadMethod(method);
    const kind = isRead ? 'read' : 'write';
    const headers = backendRequestHeaders(req.headers, { remoteAddress: req.socket.remoteAddress ?? '', viaToken: deps.viaToken, outsideUrl: deps.outsideUrl, listenAddress: deps.listenAddress });
    // the highest epoch seen: a superseded master that hears it fences itself (never trusted from clients)
    delete headers['x-wheelhouse-epoch'];
    if (pool.highestEpoch > 0) headers['x-wheelhouse-epoch'] = String(pool.highestEpoch);
    const body = requestHasBody(isRead, req.headers) ? req.pipe(new PassThrough()) : null;
    b.outstanding++;
    b.requests++;
    const abort = new AbortController();
    b.pending.add(abort);
    let answerStarted = false;
    const onClose = (): void => {
      // the client left (or was answered by the server itself, e.g. 408 for a stalled body) before the node's answer started
      if (!answerStarted) abort.abort(Object.assign(new Error('the client went away'), { code: CLIENT_WENT_AWAY }));
    };
    res.once('close', onClose);
    let outcome = 'pipe' as ForwardOutcome | 'pipe' | 'buffer';
    let status = 0;
    const collected: Buffer[] = [];
    let buffered: HeaderMap = {};
    try {
      await stream(
        b.url + (req.url ?? '/'),
        {
          dispatcher,
          method: method as 'GET',
          headers,
          body,
          signal: abort.signal,
          headersTimeout: isRead ? RETRY_POLICY.readHeadersTimeoutMs : stallMs,
          bodyTimeout: isRead ? SLOW_EXCHANGE_MS : WRITE_TIMEOUTS.answerIdleMs,
        },
        ({ statusCode, headers: up }) => {
          b.pending.delete(abort);
          status = statusCode;
          const seen = serialFromHeaders(up);
          b.noteSerial(seen.serial, seen.masterUuid);
          b.noteEpoch(parseEpochHeader(up['x-wheelhouse-epoch']), firstValue(up['x-wheelhouse-role']));
          const result: BackendResult = { status: statusCode };
          pool.noteVerdict(b, ejectionVerdict(result));
          const decision = retryDecision({ method, result, bytesSent: false, attempt });
          if (decision !== 'answer') {
            outcome = decision;
            return discard();
          }
          if (!isRead) pool.noteWriteAnswer(statusCode, seen);
          metrics.requests.inc({ backend: b.name, kind, status: `${Math.floor(statusCode / 100)}xx` });
          const out = clientResponseHeaders(up);
          if (statusCode >= 400 && Number(firstValue(up['content-length']) ?? Infinity) < REASON_BODY_MAX_BYTES) {
            // keep the message in the reason phrase (twine prints it; undici does not pass it on)
            outcome = 'buffer';
            answerStarted = true;
            delete out['content-length'];
            buffered = out;
            return collect(collected);
          }
          answerStarted = true;
          res.writeHead(statusCode, out);
          return res;
        },
      );
    } catch (err) {
      b.pending.delete(abort);
      const code = abort.signal.aborted ? ((abort.signal.reason as { code?: string } | undefined)?.code ?? BACKEND_WENT_DOWN) : errorCodeOf(err);
      const result: BackendResult = { errorCode: code };
      const decision = retryDecision({ method, result, bytesSent: res.headersSent, attempt });
      if (code === CLIENT_WENT_AWAY) {
        if (body) req.unpipe(body);
        res.destroy();
        return 'done';
      }
      if (res.headersSent) {
        // the body broke after it started: nothing can be retried or answered any more
        res.destroy();
        return 'done';
      }
      pool.noteVerdict(b, ejectionVerdict(result));
      if (body) req.unpipe(body);
      if (decision !== 'answer') return decision;
      log.warn({ backend: b.name, err: code, url: req.url }, 'backend request failed');
      req.resume();
      metrics.requests.inc({ backend: b.name, kind, status: '5xx' });
      if (!isRead && b.role === 'master' && RETRY_POLICY.notConnected.has(code)) {
        // the write never reached the master: the same clear answer as when it is known to be down
        metrics.rejected.inc({ kind: 'write' });
        answerError(res, masterDown());
      } else if (!isRead && (code === 'UND_ERR_HEADERS_TIMEOUT' || code === BACKEND_WENT_DOWN)) {
        answerError(res, masterStalled(b.name, b.url, code === BACKEND_WENT_DOWN ? 'its health checks failed' : `no progress for ${stallMs} ms`));
      } else answerError(res, backendFailed(b.name, b.url, code));
      return 'done';
    } finally {
      b.outstanding--;
      b.pending.delete(abort);
      res.off('close', onClose);
    }
    if (outcome === 'retry' || outcome === 'exhausted') return outcome;
    if (outcome === 'buffer') answerBuffered(res, status, buffered, Buffer.concat(collected));
    return 'done';
  };
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
