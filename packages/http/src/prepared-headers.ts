/**
 * Response headers of a body held in memory, built once instead of per request: most reads of a
 * simple page or a small release file are a GET or HEAD of the whole body with no validators and
 * no range, and their answer — `200`, the node's headers, then ETag, Cache-Control,
 * Last-Modified, Vary, Accept-Ranges, Content-Type, Content-Length — is the same list for every
 * such request until the node's headers change (a new serial). {@link PreparedHeaders} keeps that
 * list and sends it with one `writeHead(200, list)`; a request with `If-None-Match`,
 * `If-Modified-Since` or `Range` goes through {@link sendBody}'s full plan (304, 206, 416) with
 * the same headers. The bytes and header order are those of `sendBody`. Pages
 * ({@link sendEncodableBody}) keep theirs on the page object, one per representation.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { COMPRESS_MIN_BYTES, encodedEtag, encodedVariant, negotiateEncoding, type ContentCoding, type EncodableBody } from './content-coding.js';
import { bodyHeaders, sendBody, type BodyMeta } from './file-response.js';

/** True when a request's answer is a plain 200 of the whole body: no `If-None-Match`, `If-Modified-Since` or `Range`. */
export function isPlainRead(req: IncomingMessage): boolean {
  const h = req.headers;
  return h['if-none-match'] === undefined && h['if-modified-since'] === undefined && h.range === undefined;
}

/** The headers of one body (see module doc). Holds no body bytes: the caller passes them to {@link send}. */
export class PreparedHeaders {
  /** The headers after the node's of a 200 of the whole body: `lead`, then ETag … Content-Length. */
  readonly tail: readonly string[];
  private lastHead: readonly string[] | undefined;
  private lastFull: string[] = [];

  /**
   * @param meta what the answer says about the body
   * @param size the body's length, bytes (a body of another length is sent through `sendBody`)
   * @param lead headers sent between the node's and the body's (`Content-Encoding` of a variant)
   */
  constructor(
    readonly meta: BodyMeta,
    readonly size: number,
    readonly lead: readonly string[] = [],
  ) {
    this.tail = [...lead, ...bodyHeaders([], meta), 'Accept-Ranges', 'bytes', 'Content-Type', meta.contentType, 'Content-Length', String(size)];
  }

  /** `head` followed by the tail; the same array while `head` is the same array (node-headers.ts memoises it per serial). */
  headers(head: readonly string[]): string[] {
    if (head !== this.lastHead) {
      this.lastFull = head.concat(this.tail);
      this.lastHead = head;
    }
    return this.lastFull;
  }

  /** Answers `req` with `body` (see module doc): 200 from the prepared list, or `sendBody`'s plan. */
  send(req: IncomingMessage, res: ServerResponse, head: readonly string[], body: Buffer): void {
    if (body.length !== this.size || !isPlainRead(req)) return sendBody(req, res, this.lead.length ? [...head, ...this.lead] : head, this.meta, body);
    res.writeHead(200, this.headers(head));
    if (req.method === 'HEAD' || body.length === 0) res.end();
    else res.end(body);
  }
}

/** Most prepared representations kept on one page (content types × codings × Vary values in use; more: all are rebuilt). */
const MAX_PREPARED_PER_PAGE = 16;

function preparedOf(page: EncodableBody, meta: Omit<BodyMeta, 'etag'>, coding: ContentCoding | undefined, vary: string | undefined, body: Buffer): PreparedHeaders {
  const key = `${coding ?? ''} ${meta.contentType} ${meta.caching} ${meta.modified ?? ''} ${vary ?? ''}`;
  const kept = (page.prepared ??= new Map());
  let prepared = kept.get(key);
  if (!prepared) {
    const etag = coding ? encodedEtag(page.etag, coding) : page.etag;
    const full: BodyMeta = { ...meta, etag, ...(vary !== undefined ? { vary } : {}) };
    prepared = new PreparedHeaders(full, body.length, coding ? ['Content-Encoding', coding] : []);
    if (kept.size >= MAX_PREPARED_PER_PAGE) kept.clear();
    kept.set(key, prepared);
  }
  return prepared;
}

/**
 * Sends a page held in memory (file-response.ts's module doc): identity below COMPRESS_MIN_BYTES
 * or when the client accepts neither `br` nor `gzip`; else that coding's variant (compressed once
 * per `page` object), its ETag (`"<tag>-gzip"`), and `Content-Encoding`. Ranges, 304 and HEAD
 * apply to the representation sent (RFC 9110 §8.8.3: an ETag per content coding). The headers of
 * each representation are prepared once per page object (see module doc).
 */
export function sendEncodableBody(req: IncomingMessage, res: ServerResponse, head: readonly string[], meta: Omit<BodyMeta, 'etag'>, page: EncodableBody): void {
  if (page.body.length < COMPRESS_MIN_BYTES) return preparedOf(page, meta, undefined, meta.vary, page.body).send(req, res, head, page.body);
  const vary = meta.vary ? `${meta.vary}, Accept-Encoding` : 'Accept-Encoding';
  const coding = negotiateEncoding(req.headers['accept-encoding']);
  const body = coding ? encodedVariant(page, coding) : page.body;
  preparedOf(page, meta, coding, vary, body).send(req, res, head, body);
}
