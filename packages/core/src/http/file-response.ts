/**
 * Sends stored bytes with the headers a package index owes its clients: `Content-Length`, a strong
 * `ETag` (the sha256), `Last-Modified`, `Cache-Control: public, max-age=31536000, immutable`
 * (content-addressed files never change), conditional GET (304) and single byte ranges (RFC 9110
 * §14: 206, or 416 when unsatisfiable). Streams from disk; never buffers the file.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What to send. */
export interface StoredFile {
  path: string;
  /** bytes */
  size: number;
  sha256: string;
  /** ms since epoch */
  modified: number;
  contentType: string;
}

/** Guesses a content type from a release file name. */
export function contentTypeFor(filename: string): string {
  if (/\.(whl|zip|egg)$/i.test(filename)) return 'application/zip';
  if (/\.(tar\.gz|tgz)$/i.test(filename)) return 'application/x-tar';
  if (/\.metadata$/i.test(filename)) return 'text/plain; charset=utf-8';
  if (/\.toxresult-/.test(filename)) return 'application/json';
  return 'application/octet-stream';
}

/** Parses a `Range: bytes=a-b` header against `size`: the range, 'unsatisfiable', or undefined (send all). */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined; // multiple or malformed ranges: send the whole file (allowed by RFC 9110)
  const [, a, b] = m as unknown as [string, string, string];
  if (a === '' && b === '') return undefined;
  let start: number;
  let end: number;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

/**
 * Sends `file` for a GET or HEAD (see module doc). Headers set before are kept. When the bytes are
 * not on disk, `onMissing` is called before anything is sent (a replica fetches them then).
 */
export function sendStoredFile(req: IncomingMessage, res: ServerResponse, file: StoredFile, onMissing: () => void): void {
  const etag = `"${file.sha256}"`;
  res.setHeader('ETag', etag);
  res.setHeader('Last-Modified', new Date(file.modified).toUTCString());
  res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Type', file.contentType);
  const inm = req.headers['if-none-match'];
  if (inm && (inm === etag || inm.split(',').some((t) => t.trim() === etag || t.trim() === `W/${etag}`))) {
    res.statusCode = 304;
    res.end();
    return;
  }
  const range = parseRange(req.headers.range, file.size);
  if (range === 'unsatisfiable') {
    res.statusCode = 416;
    res.setHeader('Content-Range', `bytes */${file.size}`);
    res.end();
    return;
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? file.size - 1;
  if (range) {
    res.statusCode = 206;
    res.setHeader('Content-Range', `bytes ${start}-${end}/${file.size}`);
  }
  res.setHeader('Content-Length', String(file.size === 0 ? 0 : end - start + 1));
  if (req.method === 'HEAD' || file.size === 0) {
    res.end();
    return;
  }
  const stream = createReadStream(file.path, { start, end });
  res.once('close', () => stream.destroy());
  stream.once('error', () => {
    if (res.headersSent) res.destroy();
    else {
      for (const h of ['ETag', 'Last-Modified', 'Cache-Control', 'Accept-Ranges', 'Content-Type', 'Content-Length', 'Content-Range']) res.removeHeader(h);
      res.statusCode = 200;
      onMissing();
    }
  });
  stream.once('open', () => stream.pipe(res));
}
