/**
 * What counts against a backend for passive ejection — the one place that rule lives (STYLE #20,
 * HAProxy's `observe layer4` and Envoy's `consecutive_local_origin_failure`): only a transport
 * failure of the exchange with the node itself — a connection reset or closed, a timeout before the
 * answer's headers (`RETRY_POLICY.transportFailures`) — counts. An HTTP status is an answer the node
 * chose to send, whatever its number: a 500 a client provoked, a 502 for a failing mirror upstream,
 * a 503 of a route that has nothing yet. Counting those would let anyone who can make a node say 500
 * turn it off. A node's own "not ready" signal is its `/+ready` answer, which the active checks count
 * (`BackendPool.noteCheck`, rise/fall). A connection that provably never reached the node
 * (`RETRY_POLICY.notConnected`) takes it out of rotation at once. Failures the client or the proxy
 * caused (the client went away, the proxy cancelled a request because the node was already marked
 * down, an unknown error code) count neither way.
 */
import type { BackendResult } from './backend-result.js';
import { RETRY_POLICY } from './policy.js';

/**
 * - `success`: resets the backend's consecutive failure count.
 * - `failure`: one more consecutive failure (`HealthPolicy.maxFails` of them eject it).
 * - `down`: out of rotation now, its in-flight requests cancelled, until health checks rise again.
 * - `none`: says nothing about the backend (the client or the proxy ended the exchange).
 */
export type EjectionVerdict = 'success' | 'failure' | 'down' | 'none';

/** The verdict on one attempt's result (see module doc). Pure. */
export function ejectionVerdict(result: BackendResult): EjectionVerdict {
  if ('status' in result) return 'success';
  if (RETRY_POLICY.notConnected.has(result.errorCode)) return 'down';
  return RETRY_POLICY.transportFailures.has(result.errorCode) ? 'failure' : 'none';
}
