/**
 * Whether a failed read goes to another backend (STYLE #8: a table in `policy.ts`, read here).
 * A request is retried only when its method is in `RETRY_POLICY.methods` (reads: a retried upload
 * could commit twice), no byte has reached the client yet, and the backend answered one of
 * `RETRY_POLICY.statuses` or failed with one of `RETRY_POLICY.errorCodes`; at most
 * `RETRY_POLICY.maxRetries` further backends are tried. When the attempts are spent, a node's answer
 * (its 503 with its own message) goes to the client unchanged; only a transport failure leaves the
 * proxy to answer itself.
 */
import type { BackendResult } from './backend-result.js';
import { RETRY_POLICY } from './policy.js';

/**
 * - `answer`: not retried — a backend's answer goes to the client as it is, a transport failure
 *   is answered by the proxy (502, or 503 for a write that never reached the master), or the
 *   connection is cut when bytes already went out.
 * - `retry`: drop this attempt and try another backend.
 * - `exhausted`: a retryable transport failure, but the attempts are spent; the proxy answers 503 itself.
 */
export type RetryDecision = 'answer' | 'retry' | 'exhausted';

/** One attempt at a backend, as the retry decision sees it. */
export interface AttemptOutcome {
  /** The client's request method (`GET`, `POST`…). */
  method: string;
  /** What the backend did. */
  result: BackendResult;
  /** Whether any byte (the status line included) already went to the client. */
  bytesSent: boolean;
  /** 0 for the first backend tried, 1 for the first retry… */
  attempt: number;
}

/** Decides what follows an attempt (see module doc). Pure. */
export function retryDecision(o: AttemptOutcome): RetryDecision {
  if (o.bytesSent || !RETRY_POLICY.methods.has(o.method)) return 'answer';
  const more = o.attempt < RETRY_POLICY.maxRetries;
  if ('status' in o.result) return more && RETRY_POLICY.statuses.has(o.result.status) ? 'retry' : 'answer';
  if (!RETRY_POLICY.errorCodes.has(o.result.errorCode)) return 'answer';
  return more ? 'retry' : 'exhausted';
}
