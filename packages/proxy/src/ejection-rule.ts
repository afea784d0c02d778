/**
 * What counts against a backend for passive ejection — the one place that rule lives. Today an
 * answer with status >= 500 counts as a failure like a transport error does; a connection that
 * provably never reached the backend (`RETRY_POLICY.notConnected`) takes it out of rotation at
 * once. (STYLE #20 argues answers should not count; changing that is a change to this function.)
 */
import type { BackendResult } from './backend-result.js';
import { RETRY_POLICY } from './policy.js';

/**
 * - `success`: resets the backend's consecutive failure count.
 * - `failure`: one more consecutive failure (`HealthPolicy.maxFails` of them eject it).
 * - `down`: out of rotation now, its in-flight reads cancelled, until health checks rise again.
 */
export type EjectionVerdict = 'success' | 'failure' | 'down';

/** The verdict on one attempt's result (see module doc). Pure. */
export function ejectionVerdict(result: BackendResult): EjectionVerdict {
  if ('status' in result) return result.status >= 500 ? 'failure' : 'success';
  return RETRY_POLICY.notConnected.has(result.errorCode) ? 'down' : 'failure';
}
