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
import type { IncomingMessage, ServerResponse } from 'node:http';
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
import { serialFromHeaders } from './read-your-writes.js';
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

/** A child counter per (backend, kind, status class): labels hashed once, not per request. */
type CounterChild = { inc(): void };

/** How the answer's body is taken: streamed to the client, kept (a small error answer), or dropped (a retried read). */
type BodyMode = 'pipe' | 'buffer' | 'discard';

/** Builds the forwarder (see module doc). */
export function createForwarder(deps: ForwardDeps): Forward {
  const { pool, dispatcher, metrics, log } = deps;
  const stallMs = deps.writeStallMs ?? WRITE_TIMEOUTS.stallMs;
  const client = { viaToken: deps.viaToken, outsideUrl: deps.outsideUrl, listenAddress: deps.listenAddress };
  const children = new Map<string, CounterChild>();
  const counted = (backend: string, kind: string, status: number): void => {
    const cls = Math.floor(status / 100);
    const key = `${backend}\0${kind}\0${cls}`;
    let c = children.get(key);
    if (!c) children.set(key, (c = metrics.requests.labels({ backend, kind, status: `${cls}xx` })));
    c.inc();
  };

  /** Answers a transport failure before any byte reached the client (after the retry decision said `answer`). */
  const answerFailure = (b: Backend, req: IncomingMessage, res: ServerResponse, isRead: boolean, code: string): void => {
    log.warn({ backend: b.name, err: code, url: req.url }, 'backend request failed');
    req.resume();
    counted(b.name, isRead ? 'read' : 'write', 500);
    if (!isRead && b.role === 'master' && RETRY_POLICY.notConnected.has(code)) {
      // the write never reached the master: the same clear answer as when it is known to be down
      metrics.rejected.inc({ kind: 'write' });
      answerError(res, masterDown());
    } else if (!isRead && (code === 'UND_ERR_HEADERS_TIMEOUT' || code === BACKEND_WENT_DOWN)) {
      answerError(res, masterStalled(b.name, b.url, code === BACKEND_WENT_DOWN ? 'its health checks failed' : `no progress for ${stallMs} ms`));
    } else answerError(res, backendFailed(b.name, b.url, code));
  };

  return (b, req, res, attempt) => {
    const method = req.method ?? 'GET';
    const isRead = isReadMethod(method);
    const headers = backendRequestHeaderList(req.headers, req.socket.remoteAddress ?? '', client);
    const body = requestHasBody(isRead, req.headers) ? req.pipe(new PassThrough()) : null;
    b.outstanding++;
    b.requests++;
    return new Promise<ForwardOutcome>((resolve) => {
      let controller: Dispatcher.DispatchController | undefined;
      /** Why the proxy cut the exchange (the client left, or the backend went down), if it did. */
      let cutReason: (Error & { code?: string }) | undefined;
      /** Registered in `b.pending` until the answer starts: `markDown` cuts it. */
      const pending = {
        abort(reason?: Error): void {
          cutReason ??= reason ?? new Error(`backend ${b.name} went down`);
          controller?.abort(cutReason);
        },
      };
      b.pending.add(pending);
      let mode: BodyMode = 'pipe';
      let outcome: ForwardOutcome = 'done';
      let status = 0;
      let buffered: HeaderMap = {};
      const collected: Buffer[] = [];
      let finished = false;
      const finish = (o: ForwardOutcome): void => {
        if (finished) return;
        finished = true;
        b.outstanding--;
        b.pending.delete(pending);
        res.off('close', onClientClose);
        resolve(o);
      };
      const onClientClose = (): void => {
        // the client left (or the server itself answered it, e.g. 408 for a stalled body) before the exchange ended
        pending.abort(Object.assign(new Error('the client went away'), { code: CLIENT_WENT_AWAY }));
      };
      const resumeBackend = (): void => controller?.resume();
      res.once('close', onClientClose);
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(c) {
          controller = c;
          if (cutReason) c.abort(cutReason);
        },
        onResponseStart(_c, statusCode, up) {
          b.pending.delete(pending);
          status = statusCode;
          const seen = serialFromHeaders(up);
          b.noteSerial(seen.serial, seen.masterUuid);
          const result: BackendResult = { status: statusCode };
          pool.noteVerdict(b, ejectionVerdict(result));
          const decision = retryDecision({ method, result, bytesSent: false, attempt });
          if (decision !== 'answer') {
            outcome = decision;
            mode = 'discard';
            return;
          }
          if (!isRead) pool.noteWriteAnswer(statusCode, seen);
          counted(b.name, isRead ? 'read' : 'write', statusCode);
          const out = withoutHopByHopInPlace(up as HeaderMap);
          if (statusCode >= 400 && Number(firstValue(up['content-length']) ?? Infinity) < REASON_BODY_MAX_BYTES) {
            // keep the message in the reason phrase (twine prints it; undici does not pass it on)
            mode = 'buffer';
            delete out['content-length'];
            buffered = out;
            return;
          }
          res.writeHead(statusCode, out);
        },
        onResponseData(c, chunk) {
          if (mode === 'pipe') {
            // backpressure: the backend's socket is paused while the client's is full
            if (!res.write(chunk)) {
              c.pause();
              res.once('drain', resumeBackend);
            }
          } else if (mode === 'buffer') collected.push(chunk);
        },
        onResponseEnd() {
          if (mode === 'pipe') res.end();
          else if (mode === 'buffer') answerBuffered(res, status, buffered, Buffer.concat(collected));
          finish(outcome);
        },
        onResponseError(_c, err) {
          if (finished) return;
          b.pending.delete(pending);
          const code = cutReason ? (cutReason.code ?? BACKEND_WENT_DOWN) : errorCodeOf(err);
          if (code === CLIENT_WENT_AWAY) {
            if (body) req.unpipe(body);
            res.destroy();
            return finish('done');
          }
          if (res.headersSent) {
            // the body broke after it started: nothing can be retried or answered any more
            res.destroy();
            return finish('done');
          }
          if (mode === 'discard') return finish(outcome);
          const result: BackendResult = { errorCode: code };
          pool.noteVerdict(b, ejectionVerdict(result));
          if (body) req.unpipe(body);
          const decision = retryDecision({ method, result, bytesSent: false, attempt });
          if (decision !== 'answer') return finish(decision);
          answerFailure(b, req, res, isRead, code);
          finish('done');
        },
      };
      dispatcher.dispatch(
        {
          origin: b.url,
          path: req.url ?? '/',
          method: method as Dispatcher.HttpMethod,
          headers,
          body,
          headersTimeout: isRead ? RETRY_POLICY.readHeadersTimeoutMs : stallMs,
          bodyTimeout: isRead ? SLOW_EXCHANGE_MS : WRITE_TIMEOUTS.answerIdleMs,
        },
        handler,
      );
    });
  };
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
