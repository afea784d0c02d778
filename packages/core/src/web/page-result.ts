/**
 * What a web page handler answers, as plain data the router turns into a response: a page to frame
 * (status 200 unless told), a redirect (302), or `pass` — not a page of ours, so the request goes on
 * to the JSON read API mounted after the web router. Refusals are thrown as typed errors
 * (`NotFoundError` 404, `BadRequestError` 400) and rendered as an HTML error page by the router.
 */
import { normalizeProjectName } from '../names.js';
import type { PageSpec } from './layout.js';

/** The request facts a page handler may use (no express request: handlers run without sockets). */
export interface PageRequest {
  /** outside URL of the server, without trailing slash */
  base: string;
  /** path and query as received (express `originalUrl`), for redirects */
  originalUrl: string;
}

/** A page handler's answer (see module doc). */
export type PageResult =
  | { kind: 'page'; spec: PageSpec; status?: number }
  | { kind: 'redirect'; location: string }
  | { kind: 'pass' };

/** A page answer. */
export function pageOf(spec: PageSpec): PageResult {
  return { kind: 'page', spec };
}

/** The redirect devpi answers for a non-normalised project name (PEP 503): `raw` replaced in the path, query kept. */
export function canonicalProjectRedirect(raw: string, originalUrl: string): PageResult | undefined {
  const project = normalizeProjectName(raw);
  if (project === raw) return undefined;
  const [path, query] = originalUrl.split('?') as [string, string | undefined];
  return { kind: 'redirect', location: path.replace(`/${encodeURIComponent(raw)}`, `/${project}`).replace(`/${raw}`, `/${project}`) + (query ? `?${query}` : '') };
}

/** `originalUrl` without its query, plus a trailing slash (folder redirects drop the query, as before). */
export function withTrailingSlash(originalUrl: string): string {
  return `${originalUrl.split('?')[0]!}/`;
}
