/**
 * Header rewriting on the way through the proxy (RFC 9110 §7.6): hop-by-hop headers are dropped
 * both ways, the proxy adds itself to `Via` (and refuses a request that already passed through it,
 * STYLE #10), and tells the node where the client came from (`X-Forwarded-For/-Proto/-Host`) and
 * which URL clients reach the cluster at (`X-outside-url`, devpi's header for the URLs in pages).
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Connection-level headers (RFC 9110 §7.6.1) that are not forwarded in either direction. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Headers as undici takes and gives them (lower-case names). */
export type HeaderMap = Record<string, string | string[]>;

/** The first value of a header that may repeat. */
export function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** What the proxy knows of one client connection, for the forwarded headers. */
export interface ClientContext {
  /** The client's address (`socket.remoteAddress`; `''` unknown). */
  remoteAddress: string;
  /** This proxy's `Via` token (`wheelhouse-proxy-<random>`). */
  viaToken: string;
  /** The configured outside URL, if any. */
  outsideUrl: string | undefined;
  /** `host:port` the proxy listens on, for `X-outside-url` when the request has no `Host`. */
  listenAddress: string;
  /** The scheme the client used (`https` when the proxy serves TLS); default `http`. */
  scheme?: 'http' | 'https';
}

/**
 * The headers sent to a backend for a client request: the client's without hop-by-hop ones, its
 * address appended to `X-Forwarded-For`, `X-Forwarded-Proto` (`http` or `https`), `X-Forwarded-Host` and
 * `X-outside-url` set unless the client sent them, and this proxy appended to `Via`. Pure.
 */
export function backendRequestHeaders(incoming: IncomingHttpHeaders, client: ClientContext): HeaderMap {
  const list = backendRequestHeaderList(incoming, client.remoteAddress, client);
  const out: HeaderMap = {};
  for (let i = 0; i < list.length; i += 2) {
    const [k, v] = [list[i]!, list[i + 1]!];
    const had = out[k];
    out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  return out;
}

/**
 * {@link backendRequestHeaders} as the flat `[name, value, …]` list undici sends as it is: one
 * pass over the client's parsed headers, no intermediate object (the proxy's per-request path).
 */
export function backendRequestHeaderList(incoming: IncomingHttpHeaders, remoteAddress: string, client: Omit<ClientContext, 'remoteAddress'>): string[] {
  const out: string[] = [];
  let xff: string | undefined;
  let via: string | undefined;
  let proto = false;
  let fhost = false;
  let outside = false;
  for (const k in incoming) {
    const v = incoming[k];
    if (v === undefined || HOP_BY_HOP.has(k) || k === 'x-wheelhouse-epoch') continue;
    if (k === 'x-forwarded-for') xff = String(v);
    else if (k === 'via') via = String(v);
    else {
      if (k === 'x-forwarded-proto') proto = true;
      else if (k === 'x-forwarded-host') fhost = true;
      else if (k === 'x-outside-url') outside = true;
      if (Array.isArray(v)) for (const one of v) out.push(k, one);
      else out.push(k, v);
    }
  }
  out.push('x-forwarded-for', xff ? `${xff}, ${remoteAddress}` : remoteAddress);
  const scheme = client.scheme ?? 'http';
  if (!proto) out.push('x-forwarded-proto', scheme);
  if (!fhost) out.push('x-forwarded-host', incoming.host ?? '');
  if (!outside) out.push('x-outside-url', client.outsideUrl ?? `${scheme}://${incoming.host ?? client.listenAddress}`);
  out.push('via', via ? `${via}, 1.1 ${client.viaToken}` : `1.1 ${client.viaToken}`);
  return out;
}

/** A backend's response headers for the client: without hop-by-hop ones. Pure. */
export function clientResponseHeaders(upstream: IncomingHttpHeaders): HeaderMap {
  return withoutHopByHop(upstream);
}

/** Whether the request already passed through the proxy with this `Via` token (a loop). */
export function passedThrough(incoming: IncomingHttpHeaders, viaToken: string): boolean {
  return String(incoming.via ?? '').includes(viaToken);
}

/**
 * Whether a write carries a body to stream to the backend: a non-zero `Content-Length`, or chunked
 * (`Transfer-Encoding`). Reads are never given one.
 */
export function requestHasBody(isRead: boolean, incoming: IncomingHttpHeaders): boolean {
  if (isRead) return false;
  return incoming['content-length'] !== undefined ? incoming['content-length'] !== '0' : incoming['transfer-encoding'] !== undefined;
}

function withoutHopByHop(headers: IncomingHttpHeaders): HeaderMap {
  const out: HeaderMap = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}
