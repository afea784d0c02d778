/**
 * The boundary of the raw (non-express) read path: whatever a handler throws synchronously or
 * rejects with later becomes one answer through {@link sendError} — a typed error its status, anything
 * else a logged 500 — or a destroyed socket once headers went out. Never an uncaught exception:
 * a response finished inside an unguarded `void (async () => …)()` is how one `HEAD` took a master
 * down (ERR_HTTP_HEADERS_SENT, issue 10).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { sendError } from './respond.js';

/** A raw handler: may answer synchronously, or return a promise of its (later) answer. */
export type RawHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/** Options of {@link guard}. */
export interface GuardOptions {
  /** Called before an error answer is written (e.g. to set the node's devpi headers). */
  beforeError?: (res: ServerResponse) => void;
}

/** Wraps `handler` (see module doc); the wrapper returns what the handler returned (undefined after a sync throw). */
export function guard<R>(log: Logger, handler: (req: IncomingMessage, res: ServerResponse) => R, opts: GuardOptions = {}): (req: IncomingMessage, res: ServerResponse) => R | undefined {
  const fail = (req: IncomingMessage, res: ServerResponse, err: unknown): void => {
    try {
      if (!res.headersSent) opts.beforeError?.(res);
      sendError(log, req, res, err);
    } catch (again) {
      log.error({ err: again, url: req.url }, 'could not answer an error; closing connection');
      res.destroy();
    }
  };
  return (req, res) => {
    let out: R;
    try {
      out = handler(req, res);
    } catch (err) {
      fail(req, res, err);
      return undefined;
    }
    if (out instanceof Promise) out.catch((err: unknown) => fail(req, res, err));
    return out;
  };
}
