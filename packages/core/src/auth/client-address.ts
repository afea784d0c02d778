/**
 * The client address login throttling counts against. Trust choice: nodes are reached through the
 * cluster's proxy, which appends the address it accepted the connection from to
 * `X-Forwarded-For` (a replica forwards the header to the master unchanged, and sets it to its peer
when a request has none), so the LAST entry is
 * the one a Wheelhouse proxy saw; entries left of it were written by the client and are ignored.
 * Without the header the socket's peer address is used. A client that reaches a node directly
 * can write that last entry itself, so nodes' ports must not be reachable except through the proxy
 * (docs/operations.md, "Credentials"); the per-user limit does not depend on the address either way.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** The client address of a request: the last `X-Forwarded-For` entry, else `peer` (`''` unknown). */
export function clientAddress(headers: IncomingHttpHeaders, peer: string | undefined): string {
  const xff = headers['x-forwarded-for'];
  const joined = Array.isArray(xff) ? xff.join(',') : xff;
  const last = joined?.split(',').pop()?.trim();
  return last || peer || '';
}
