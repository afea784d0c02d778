/**
 * One pino line per request, written when the response finishes: method, url, status, duration
 * (ms), user, bytes sent. Used by the fast read path and the express app alike.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AuthenticatedUser } from '../acl.js';

/** Per-request fields other layers fill in (the authenticated user). */
export interface RequestContext {
  /** the authenticated user's name (logged) */
  user?: string;
  /** the authenticated principal, directory groups included (`principalOf`) */
  principal?: AuthenticatedUser;
  /** Credentials were sent but refused: why (`wrong password for user alice`), for a 401's message. */
  authFailure?: string;
  /** true once credentials were checked (user stays undefined for anonymous) */
  resolved?: boolean;
}

const contexts = new WeakMap<IncomingMessage, RequestContext>();

/** The mutable context of a request (created on first use). */
export function requestContext(req: IncomingMessage): RequestContext {
  let ctx = contexts.get(req);
  if (!ctx) {
    ctx = {};
    contexts.set(req, ctx);
  }
  return ctx;
}

/**
 * Starts timing `req` and logs one line when `res` finishes or the connection closes early;
 * `observe` also receives method, status and duration (ms), for metrics.
 */
export function logRequest(
  log: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  observe?: (method: string, status: number, ms: number) => void,
): void {
  const start = performance.now();
  const logs = log.isLevelEnabled('info');
  if (!logs && !observe) return;
  // 'close' follows 'finish' and also fires when the client leaves early: one listener covers both
  // (and fires once per response: `on`, without once's wrapper)
  res.on('close', () => {
    const ms = performance.now() - start;
    observe?.(req.method ?? 'OTHER', res.statusCode, ms);
    if (!logs) return;
    const user = contexts.get(req)?.user;
    log.info(
      { method: req.method, url: req.url, status: res.statusCode, ms: Math.round(ms * 100) / 100, user: user ?? null, aborted: !res.writableFinished },
      'request',
    );
  });
}
