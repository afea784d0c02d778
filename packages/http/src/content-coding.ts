/**
 * Content codings for pages (RFC 9110 §8.4, §12.5.3): which coding a request's `Accept-Encoding`
 * prefers among `br` and `gzip`, and a page body's encoded variants, compressed once (on the first
 * request that wants them) and kept on the body object itself, so a page cached per (page, serial)
 * is compressed once per serial and every later request only copies bytes. Release files are never
 * passed here: their bytes are sent as stored.
 */
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { PreparedHeaders } from './prepared-headers.js';

/** A content coding Wheelhouse produces. */
export type ContentCoding = 'br' | 'gzip';

/** Bodies smaller than this many bytes are sent as they are (the headers would eat the gain). */
export const COMPRESS_MIN_BYTES = 1024;

/** A page body that may be sent encoded: the plain bytes, their strong ETag, and the variants made so far. */
export interface EncodableBody {
  readonly body: Buffer;
  /** Strong ETag of the plain bytes, quoted. */
  readonly etag: string;
  /** Encoded variants, filled on first use (see {@link encodedVariant}). */
  encoded?: Partial<Record<ContentCoding, Buffer>>;
  /** Response headers of each representation sent so far (prepared-headers.ts), by representation. */
  prepared?: Map<string, PreparedHeaders>;
}

/** Brotli quality 5: most of quality 11's ratio on HTML/JSON at a small fraction of its CPU. */
const BROTLI_OPTIONS = { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT } };

/**
 * The coding to send for `header` (an `Accept-Encoding` value), or undefined for identity: the
 * acceptable coding (q > 0, named or through `*`) with the highest q, `br` on a tie. A missing or
 * empty header, or one naming neither, gives identity (RFC 9110 §12.5.3).
 */
export function negotiateEncoding(header: string | undefined): ContentCoding | undefined {
  if (!header) return undefined;
  // clients send the same header on every request (pip: `gzip, deflate`): the last answer is kept
  if (header === lastHeader) return lastCoding;
  const coding = parseAcceptEncoding(header);
  lastHeader = header;
  lastCoding = coding;
  return coding;
}

let lastHeader: string | undefined;
let lastCoding: ContentCoding | undefined;

function parseAcceptEncoding(header: string): ContentCoding | undefined {
  const q: Record<string, number> = {};
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    let weight = 1;
    for (const p of params) {
      const m = /^\s*q\s*=(.*)$/.exec(p);
      if (m) weight = /^\s*[\d.]+\s*$/.test(m[1]!) ? Number(m[1]) : 0;
    }
    q[name.trim()] = Number.isFinite(weight) ? weight : 0;
  }
  const weight = (c: ContentCoding): number => q[c] ?? q['*'] ?? 0;
  const [br, gzip] = [weight('br'), weight('gzip')];
  if (br <= 0 && gzip <= 0) return undefined;
  return br >= gzip ? 'br' : 'gzip';
}

/** The bytes of `page` in `coding`, compressed on the first call and kept on `page`. */
export function encodedVariant(page: EncodableBody, coding: ContentCoding): Buffer {
  const cache = (page.encoded ??= {});
  let bytes = cache[coding];
  if (!bytes) {
    bytes = coding === 'gzip' ? gzipSync(page.body) : brotliCompressSync(page.body, BROTLI_OPTIONS);
    cache[coding] = bytes;
  }
  return bytes;
}

/** The ETag of `coding`'s variant: the plain tag with `-<coding>` inside the quotes (a distinct strong validator per representation). */
export function encodedEtag(etag: string, coding: ContentCoding): string {
  return etag.endsWith('"') ? `${etag.slice(0, -1)}-${coding}"` : `${etag}-${coding}`;
}
