/**
 * The proxy's policies as data (STYLE #8, #9): which requests may be retried and on what, health
 * check timing with HAProxy-style rise/fall counts, and passive ejection with a growing time.
 * `retry-decision.ts` reads the retry table, `ejection-rule.ts` the error codes that mark a
 * backend down, `backends.ts` the health numbers.
 */

/**
 * The code of the failure of an in-flight read the proxy cancelled itself because its backend went
 * down (failed checks or a refused connection elsewhere): not a Node or undici code.
 */
export const BACKEND_WENT_DOWN = 'ABORTED_BACKEND_DOWN';

/** The code of an exchange the proxy cut because its client went away (closed before its request was complete). */
export const CLIENT_WENT_AWAY = 'ABORTED_CLIENT_GONE';

/** When a request may go to a second backend. Writes never do. */
export const RETRY_POLICY = {
  /** Only reads: a retried upload could commit twice. */
  methods: new Set(['GET', 'HEAD']),
  /**
   * Statuses that mean "this node cannot serve this now", retried elsewhere when no byte reached the
   * client; the last attempt's answer goes to the client unchanged. Only 503: a 502 or 504 is a
   * node's deliberate gateway answer (a failing mirror upstream) and reaches the client as it is.
   */
  statuses: new Set([503]),
  /** Connection errors (undici / Node codes, and the proxy's own `BACKEND_WENT_DOWN`) that are retried. */
  errorCodes: new Set([
    'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET',
    'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CLOSED', BACKEND_WENT_DOWN,
  ]),
  /** At most this many further backends are tried. */
  maxRetries: 1,
  /** A read whose backend sends no response headers within this time is retried elsewhere, ms. */
  readHeadersTimeoutMs: 10_000,
  /** A read's answer body idle this long (the client not taking it, or the backend not sending) is cut, ms. */
  readBodyIdleMs: 600_000,
  /**
   * Transport failures of the exchange with the node itself: what passive ejection counts
   * (`ejection-rule.ts`), besides `notConnected`.
   */
  transportFailures: new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED']),
  /** Errors that prove a request never reached the backend (a write may then be answered 503). */
  notConnected: new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']),
} as const;

/**
 * Timeouts of a write forwarded to the master (an upload, a login, an index change), ms. A hung
 * master (SIGSTOP, a frozen VM) fails its health checks and is marked down in about 2.5 s
 * (`DEFAULT_HEALTH_POLICY`): its in-flight writes are then answered 504 at once. The check is the
 * liveness signal, so a big upload whose commit takes the master a while after the body (hashing,
 * fsync of 1 GiB) is not cut while the master answers its checks. Besides: undici's `headersTimeout`
 * runs from the moment the request went out and is re-armed whenever the master stops taking body
 * bytes and when the body is complete; it fires only while the master takes no bytes or after the
 * whole body was sent — progress resets it, total time does not (a slow client is never cut here).
 */
export const WRITE_TIMEOUTS = {
  /** No answer this long after the body was sent, or no body byte taken for this long, while the master passes its checks: 504. */
  stallMs: 60_000,
  /** The answer's body (small JSON) idle this long: the exchange is cut. */
  answerIdleMs: 30_000,
} as const;

/** Health checking and ejection numbers (all times in ms). */
export interface HealthPolicy {
  /** Interval of active checks (`GET /+ready` on each backend). */
  intervalMs: number;
  /** Timeout of one check. */
  timeoutMs: number;
  /** Consecutive successful checks before a down backend is up again. */
  rise: number;
  /** Consecutive failed checks before an up backend is down. */
  fall: number;
  /** Consecutive request failures (as `ejectionVerdict` counts them) that eject a backend. */
  maxFails: number;
  /** First ejection time; doubles with each ejection, up to `maxEjectMs`. */
  ejectMs: number;
  maxEjectMs: number;
}

/** Defaults: a dead backend stops getting requests within about a second. */
export const DEFAULT_HEALTH_POLICY: HealthPolicy = {
  intervalMs: 500,
  timeoutMs: 1_000,
  rise: 2,
  fall: 2,
  maxFails: 2,
  ejectMs: 2_000,
  maxEjectMs: 60_000,
};
