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

/** When a request may go to a second backend. Writes never do. */
export const RETRY_POLICY = {
  /** Only reads: a retried upload could commit twice. */
  methods: new Set(['GET', 'HEAD']),
  /** Statuses that mean "this backend cannot answer now", retried when no byte reached the client. */
  statuses: new Set([502, 503, 504]),
  /** Connection errors (undici / Node codes, and the proxy's own `BACKEND_WENT_DOWN`) that are retried. */
  errorCodes: new Set([
    'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET',
    'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CLOSED', BACKEND_WENT_DOWN,
  ]),
  /** At most this many further backends are tried. */
  maxRetries: 1,
  /** A read whose backend sends no response headers within this time is retried elsewhere, ms. */
  readHeadersTimeoutMs: 10_000,
  /** Errors that prove a request never reached the backend (a write may then be answered 503). */
  notConnected: new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']),
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
