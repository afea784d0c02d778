/**
 * Writing web answers: HTML pages under a strict content-security policy (no script at all; styles
 * and forms only from this server), the HTML error page for a typed error, and documentation
 * entries under `Content-Security-Policy: sandbox …`, so uploaded HTML runs in an opaque origin and
 * cannot act on the index's own pages. Also the content negotiation that decides whether a request
 * gets a page at all.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { statusOf } from '@wheelhouse/http';
import type { WheelhouseError } from '../errors.js';
import type { DocEntry } from './doc-zips.js';
import { html } from './html-template.js';
import { renderPage, type PageContext, type PageSpec } from './layout.js';

/** Policy of our own pages: no script, styles and forms only from here, images also from https. */
function pageCsp(base: string): string {
  return `default-src 'none'; style-src 'self' ${base}; img-src 'self' https: data:; form-action 'self' ${base}; base-uri 'none'; frame-ancestors 'none'`;
}

/** Policy of uploaded documentation: an opaque origin (no access to the index's pages, storage or credentials). */
const DOC_CSP = "sandbox allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox; frame-ancestors 'self'";

/**
 * True when the request asks for HTML as browsers do. API clients ask for JSON; pip's PEP 691
 * `Accept` names `text/html` too, but after the simple API's own types, which browsers never send.
 */
export function wantsHtml(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return /\btext\/html\b/i.test(accept) && !/application\/(json|vnd\.pypi\.simple)/i.test(accept);
}

/** Sends `spec` framed for `ctx` with `status` (no body for HEAD). */
export function sendPage(req: IncomingMessage, res: ServerResponse, ctx: PageContext, spec: PageSpec, status = 200): void {
  const body = renderPage(ctx, spec);
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Security-Policy', pageCsp(ctx.base));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('Vary', 'Accept');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The page for a typed error: "Not found" for 404, else "Error {status}", with the error's message. */
export function errorPageSpec(base: string, err: WheelhouseError): PageSpec {
  const title = statusOf(err) === 404 ? 'Not found' : `Error ${statusOf(err)}`;
  return {
    title,
    crumbs: [{ label: 'Indexes', href: `${base}/` }, { label: String(statusOf(err)) }],
    body: html`<h1>${title}</h1><p class="lead">${err.message}</p><p><a href="${base}/">Back to the indexes</a></p>`,
  };
}

/**
 * Sends a documentation entry, sandboxed, cacheable for 60 s under `etag`: 304 on a matching
 * `If-None-Match`, headers only for HEAD, else the entry streamed (the socket is destroyed when the
 * zip cannot be read midway). Releases the entry when done.
 */
export async function sendDocEntry(req: IncomingMessage, res: ServerResponse, entry: DocEntry, etag: string): Promise<void> {
  res.setHeader('Content-Security-Policy', DOC_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'public, max-age=60');
  res.setHeader('ETag', etag);
  if (req.headers['if-none-match'] === etag || req.method === 'HEAD') {
    entry.release();
    res.statusCode = req.method === 'HEAD' ? 200 : 304;
    if (req.method === 'HEAD') {
      res.setHeader('Content-Type', entry.contentType);
      res.setHeader('Content-Length', entry.size);
    }
    res.end();
    return;
  }
  let stream: NodeJS.ReadableStream;
  try {
    stream = await entry.open();
  } catch (err) {
    entry.release();
    throw err;
  }
  res.setHeader('Content-Type', entry.contentType);
  res.setHeader('Content-Length', entry.size);
  stream.on('error', () => res.destroy());
  res.on('close', () => entry.release());
  stream.pipe(res);
}
