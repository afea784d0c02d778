/** Public API of @wheelhouse/proxy: the health-checked reverse proxy in front of a Wheelhouse cluster. */
export { createProxy, type Proxy, type ProxyConfig } from './proxy-server.js';
export { Backend, BackendPool, isReadMethod } from './backends.js';
export { DEFAULT_HEALTH_POLICY, RETRY_POLICY, type HealthPolicy } from './policy.js';
export { retryDecision, type AttemptOutcome, type RetryDecision } from './retry-decision.js';
export { ejectionVerdict, type EjectionVerdict } from './ejection-rule.js';
export type { BackendResult } from './backend-result.js';
export { mayServeRead, NO_SERIAL, type SerialMark } from './read-your-writes.js';
export type { ProxyStatus, BackendStatus } from './proxy-status.js';
