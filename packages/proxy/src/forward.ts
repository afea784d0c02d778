/**
 * One attempt at one backend: the client's request streamed to it with undici's low-level
 * `dispatch()` (a handler, no stream objects per request: each chunk of the answer is written
 * straight into the client's response, the backend paused while the client's socket is full, so
 * memory stays flat for any size) and its answer back. Headers are rewritten on the way
 * (`forward-headers.ts`); the serial an answer carries feeds read-your-writes; every result
 * before the first byte to the client goes through the ejection rule; a retryable failure
 * (`retryDecision`) sends nothing to the client and leaves the next step to the caller. An
 * in-flight read is registered in its backend's `pending` set, so `BackendPool.markDown` cancels
 * it when the backend goes down — it is then retried.
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
import { backendFailed, masterDown } from './json-answer.js';
import { BACKEND_WENT_DOWN, RETRY_POLICY } from './policy.js';
import type { ProxyMetrics } from './proxy-metrics.js';
import { serialFromHeaders } from './read-your-writes.js';
import { retryDecision } from './retry-decision.js';

/** Headers and body timeout of writes (uploads of large files), and body timeout of reads, ms. */
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
}

/** A child counter per (backend, kind, status class): labels hashed once, not per request. */
type CounterChild = { inc(): void };

type DispatchHandler = Dispatcher.DispatchHandler;
type DispatchController = Dispatcher.DispatchController;

/** Builds the forwarder (see module doc). */
export function createForwarder(deps: ForwardDeps): Forward {
  const { pool, dispatcher, metrics, log } = deps;
  const client = { viaToken: deps.viaToken, outsideUrl: deps.outsideUrl, listenAddress: deps.listenAddress };
  const children = new Map<string, CounterChild>();
  const counted = (backend: string, kind: string, status: number): void => {
    const key = `${backend}\0${kind}\0${Math.floor(status / 100)}`;
    let c = children.get(key);
    if (!c) children.set(key, (c = metrics.requests.labels({ backend, kind, status: `${Math.floor(status / 100)}xx` })));
    c.inc();
  };
  return (b, req, res, attempt) => {
    const method = req.method ?? 'GET';
    const isRead = isReadMethod(method);
    const kind = isRead ? 'read' : 'write';
    const headers = backendRequestHeaderList(req.headers, req.socket.remoteAddress ?? '', client);
    const body = requestHasBody(isRead, req.headers) ? req.pipe(new PassThrough()) : null;
    b.outstanding++;
    b.requests++;
    return new Promise<ForwardOutcome>((resolve) => {
      let controller: DispatchController | undefined;
      let abortReason: Error | undefined;
      let aborted = false;
      const pending = {
        abort: (reason: Error): void => {
          aborted = true;
          if (controller) controller.abort(reason);
          else abortReason = reason;
        },
      };
      if (isRead) b.pending.add(pending);
      let mode: 'pipe' | 'buffer' | 'discard' = 'pipe';
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
        // the client went away before the answer ended: stop reading from the backend
        if (!res.writableFinished) controller?.abort(new Error('client closed the connection'));
      };
      res.once('close', onClientClose);
      const handler: DispatchHandler = {
        onRequestStart(c) {
          controller = c;
          if (abortReason !== undefined) c.abort(abortReason);
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
          counted(b.name, kind, statusCode);
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
            if (!res.write(chunk)) {
              c.pause();
              res.once('drain', () => c.resume());
            }
          } else if (mode === 'buffer') collected.push(chunk);
        },
        onResponseEnd() {
          if (mode === 'pipe') res.end();
          else if (mode === 'buffer') answerBuffered(res, status, buffered, Buffer.concat(collected));
          finish(outcome);
        },
        onResponseError(_c, err) {
          b.pending.delete(pending);
          const code = aborted ? BACKEND_WENT_DOWN : errorCodeOf(err);
          if (res.headersSent || res.destroyed) {
            // the body broke after it started (or the client left): nothing can be retried or answered any more
            res.destroy();
            return finish('done');
          }
          if (mode === 'discard') return finish(outcome);
          const result: BackendResult = { errorCode: code };
          const decision = retryDecision({ method, result, bytesSent: false, attempt });
          pool.noteVerdict(b, ejectionVerdict(result));
          if (body) req.unpipe(body);
          if (decision !== 'answer') return finish(decision);
          log.warn({ backend: b.name, err: code, url: req.url }, 'backend request failed');
          req.resume();
          counted(b.name, kind, 500);
          if (!isRead && b.role === 'master' && RETRY_POLICY.notConnected.has(code)) {
            // the write never reached the master: the same clear answer as when it is known to be down
            metrics.rejected.inc({ kind: 'write' });
            answerError(res, masterDown());
          } else answerError(res, backendFailed(b.name, b.url, code));
          finish('done');
        },
      };
      dispatcher.dispatch(
        {
          origin: b.url,
          path: req.url ?? '/',
          method: method as 'GET',
          headers,
          body,
          headersTimeout: isRead ? RETRY_POLICY.readHeadersTimeoutMs : SLOW_EXCHANGE_MS,
          bodyTimeout: SLOW_EXCHANGE_MS,
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
