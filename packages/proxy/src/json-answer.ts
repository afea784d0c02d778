/**
 * The proxy's own answers, in devpi's shape through the one error table of `@wheelhouse/http`:
 * the gateway errors it sends (`NodeError` with a code; status from `ERROR_STATUS`) and the
 * message texts users read.
 */
import { NodeError } from '@wheelhouse/http';

/** The answer to a write while the master is unreachable (sent with 503 and `Retry-After: 10`). */
export const MASTER_DOWN_MESSAGE = 'the master is unavailable: uploads and other changes are refused until it is back; installs keep working';

/** 503 for a write while the master is down or refused the connection. */
export function masterDown(): NodeError {
  return new NodeError('EUNAVAILABLE', MASTER_DOWN_MESSAGE, { 'Retry-After': '10' });
}

/** 503 for a read no backend could serve (`tried`: backend names). */
export function noReadBackend(tried: string[]): NodeError {
  return new NodeError('EUNAVAILABLE', `no backend can serve this read now (tried: ${tried.join(', ') || 'none usable'})`, { 'Retry-After': '2' });
}

/** 502 when a backend failed with a transport error before answering. */
export function backendFailed(name: string, url: string, code: string): NodeError {
  return new NodeError('EBADGATEWAY', `backend ${name} (${url}) failed: ${code}`);
}

/**
 * 504 for a write the master stopped answering (hung: SIGSTOP, a stalled disk) before its answer
 * started: the write may or may not have been committed. `why`: what showed it.
 */
export function masterStalled(name: string, url: string, why: string): NodeError {
  return new NodeError(
    'EGATEWAYTIMEOUT',
    `backend ${name} (${url}) stopped answering (${why}) before answering this write: it may or may not have been committed; check before retrying`,
    { 'Retry-After': '10' },
  );
}

/** 508 when a request already passed through this proxy (`Via`, STYLE #10). */
export function requestLoop(viaToken: string): NodeError {
  return new NodeError('ELOOP', `request loop: already passed through ${viaToken}`);
}
