/**
 * Responses no shared cache may keep: an answer of a read-restricted index went to one
 * authenticated reader, but a release file says `public, …, immutable` and a page
 * `must-revalidate` — both let a shared cache (nginx, a CDN in front of the proxy) store an answer
 * to a request with `Authorization` and serve it to anyone (RFC 9111 §3.5). {@link keepPrivate}
 * makes whatever the handlers write `Cache-Control: private` (§5.2.2.7), with the rest of the
 * value kept (the reader's own browser or pip cache may still keep it), without the handlers
 * knowing: the decision is taken once per request, before them.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** `value` as a private directive list: `public` dropped, `private` first (absent: just `private`). */
export function privateCacheControl(value: string | undefined): string {
  if (value === undefined || value.trim() === '') return 'private';
  const rest = value
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '' && !/^(public|private)$/i.test(d));
  return ['private', ...rest].join(', ');
}

type Headers = OutgoingHttpHeaders | ReadonlyArray<string | string[] | number> | undefined;

function privateHeaders(headers: Headers): Headers {
  if (headers === undefined) return headers;
  if (Array.isArray(headers)) {
    // flat [name, value, name, value, …], as the node's fast path writes them
    const out = [...(headers as Array<string | number | string[]>)];
    let found = false;
    for (let i = 0; i + 1 < out.length; i += 2) {
      if (String(out[i]).toLowerCase() !== 'cache-control') continue;
      out[i + 1] = privateCacheControl(String(out[i + 1]));
      found = true;
    }
    if (!found) out.push('Cache-Control', 'private');
    return out as unknown as Headers;
  }
  const out: OutgoingHttpHeaders = { ...(headers as OutgoingHttpHeaders) };
  const name = Object.keys(out).find((k) => k.toLowerCase() === 'cache-control');
  if (name !== undefined) out[name] = privateCacheControl(String(out[name]));
  return out;
}

/**
 * Makes every answer written on `res` private (see module doc): headers given to `writeHead` and
 * those set before it (`setHeader`, as express does) get `Cache-Control: private`. Idempotent.
 */
export function keepPrivate(res: ServerResponse): void {
  if ((res as { [PRIVATE]?: true })[PRIVATE]) return;
  (res as { [PRIVATE]?: true })[PRIVATE] = true;
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, status: number, ...rest: unknown[]): ServerResponse {
    const last = rest.length ? rest[rest.length - 1] : undefined;
    const given = last !== undefined && last !== null && typeof last === 'object';
    // headers set before (express): made private in place; the list given here wins over them
    if (!this.headersSent && (!given || this.hasHeader('cache-control'))) this.setHeader('Cache-Control', privateCacheControl(this.getHeader('cache-control')?.toString()));
    if (given) rest[rest.length - 1] = privateHeaders(last as Headers);
    return (writeHead as (...args: unknown[]) => ServerResponse).call(this, status, ...rest);
  } as typeof res.writeHead;
}

const PRIVATE = Symbol('wheelhouse.private-response');
