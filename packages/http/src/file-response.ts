/**
 * The one place release-file and page response headers are decided. A release file's URL names
 * content-addressed bytes (`+f/<sha256 prefix>/…`): strong `ETag` (the sha256), `Last-Modified`,
 * `Cache-Control: public, max-age=31536000, immutable`, `Accept-Ranges: bytes`. A page whose URL
 * keeps its address while its content changes (simple pages, a mirror's project list) is
 * `mutable`: `Cache-Control: max-age=0, must-revalidate` with its ETag, so clients revalidate.
 * Both answer conditional requests with 304 (RFC 9110 §13: `If-None-Match` — `*`, lists, weak
 * tags — first, else `If-Modified-Since`), single byte ranges with 206 or 416 (§14; several ranges
 * or a malformed header: the whole body, as §14.2 allows), and HEAD without a body. A page held in
 * memory of at least COMPRESS_MIN_BYTES is sent in the coding the client prefers (`br`, `gzip`;
 * see content-coding.ts) with `Content-Encoding`, `Vary: Accept-Encoding` and the coding's own
 * ETag (`sendEncodableBody`, prepared-headers.ts); release files are always sent as stored.
 */
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OpenFiles } from './open-files.js';

/** Caching class of a response (see module doc). */
export type Caching = 'immutable' | 'mutable';

/** What a response says about its body. */
export interface BodyMeta {
  /** Strong validator, quoted (`"<sha256>"`). */
  etag: string;
  /** Last modification, ms since epoch (omitted: no `Last-Modified`, no `If-Modified-Since` check). */
  modified?: number;
  contentType: string;
  caching: Caching;
  /** `Vary` value (pages negotiated on `Accept`). */
  vary?: string;
}

/** A body stored on disk. */
export interface StoredBody extends BodyMeta {
  path: string;
  /** bytes */
  size: number;
}

const CACHE_CONTROL: Record<Caching, string> = {
  immutable: 'public, max-age=31536000, immutable',
  mutable: 'max-age=0, must-revalidate',
};

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
  if (!m) return undefined;
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

/** True when the request's validators say the client's copy is current (→ 304). */
export function isNotModified(req: IncomingMessage, meta: Pick<BodyMeta, 'etag' | 'modified'>): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) {
    return inm.split(',').some((t) => {
      const tag = t.trim();
      return tag === '*' || tag === meta.etag || tag === `W/${meta.etag}`;
    });
  }
  const ims = req.headers['if-modified-since'];
  if (ims === undefined || meta.modified === undefined) return false;
  const since = Date.parse(ims);
  return Number.isFinite(since) && Math.floor(meta.modified / 1000) * 1000 <= since;
}

/**
 * The validator and caching headers of a body as a flat `[name, value, …]` list, appended to
 * `head` (the node's headers). Also what a streamed body (bytes arriving from upstream) sends.
 */
export function bodyHeaders(head: readonly string[], meta: BodyMeta): string[] {
  const out = [...head, 'ETag', meta.etag, 'Cache-Control', CACHE_CONTROL[meta.caching]];
  if (meta.modified !== undefined) out.push('Last-Modified', new Date(meta.modified).toUTCString());
  if (meta.vary) out.push('Vary', meta.vary);
  return out;
}

/** A decided answer: no body (304, 416) or a body slice `start..end` (inclusive byte offsets). */
export type Plan = { body: false; status: 304 | 416; headers: string[] } | { body: true; status: 200 | 206; headers: string[]; start: number; end: number; send: boolean };

/** Decides status and headers of a GET/HEAD of a body of `size` bytes (see module doc). */
export function planResponse(req: IncomingMessage, head: readonly string[], meta: BodyMeta, size: number): Plan {
  const headers = bodyHeaders(head, meta);
  headers.push('Accept-Ranges', 'bytes');
  if (isNotModified(req, meta)) return { body: false, status: 304, headers };
  headers.push('Content-Type', meta.contentType);
  const range = parseRange(req.headers.range, size);
  if (range === 'unsatisfiable') {
    headers.push('Content-Range', `bytes */${size}`, 'Content-Length', '0');
    return { body: false, status: 416, headers };
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  if (range) headers.push('Content-Range', `bytes ${start}-${end}/${size}`);
  headers.push('Content-Length', String(size === 0 ? 0 : end - start + 1));
  return { body: true, status: range ? 206 : 200, headers, start, end, send: req.method !== 'HEAD' && size > 0 };
}

/** Sends a body held in memory (a cached small file, a rendered page). */
export function sendBody(req: IncomingMessage, res: ServerResponse, head: readonly string[], meta: BodyMeta, body: Buffer): void {
  const plan = planResponse(req, head, meta, body.length);
  res.writeHead(plan.status, plan.headers);
  if (plan.body && plan.send) res.end(body.subarray(plan.start, plan.end + 1));
  else res.end();
}

/** Largest read of a stored body, bytes: 1 MiB reads (16 times fs's 64 KiB default) cut the per-chunk cost of large files. */
export const MAX_READ_BYTES = 1024 * 1024;

/** The read size for a body of `length` bytes: the whole body when it is small (one buffer of its size, not 64 KiB), else MAX_READ_BYTES. */
function readSize(length: number): number {
  return Math.max(1, Math.min(length, MAX_READ_BYTES));
}

/**
 * Streams a body from disk (never buffered). When the file cannot be opened, `onMissing` answers
 * instead, before anything was sent (a replica fetches the bytes then). Resolves when the answer is
 * complete; rejects with what `onMissing` rejects with. A read error after headers went out
 * destroys the socket. With `files` the file is read positionally on a handle kept open between
 * requests (open-files.ts), else through a read stream opened for this request.
 */
export function sendStoredBody(req: IncomingMessage, res: ServerResponse, head: readonly string[], file: StoredBody, onMissing: () => unknown, files?: OpenFiles): Promise<void> {
  const plan = planResponse(req, head, file, file.size);
  if (!plan.body || !plan.send) {
    res.writeHead(plan.status, plan.headers);
    res.end();
    return Promise.resolve();
  }
  const { start, end } = plan;
  if (files) {
    let opened = false;
    return files
      .use(file.path, (handle) => {
        opened = true;
        res.writeHead(plan.status, plan.headers);
        return sendRange(res, handle, start, end);
      })
      .then(
        () => undefined,
        async (err: unknown) => {
          if (opened) res.destroy(err instanceof Error ? err : undefined);
          else await onMissing();
        },
      );
  }
  return new Promise<void>((resolve, reject) => {
    const stream = createReadStream(file.path, { start, end, highWaterMark: readSize(end - start + 1) });
    const onClose = (): void => {
      stream.destroy();
      resolve();
    };
    res.once('close', onClose);
    stream.once('error', () => {
      res.off('close', onClose);
      if (res.headersSent) {
        res.destroy();
        resolve();
      } else Promise.resolve().then(onMissing).then(() => resolve(), reject);
    });
    stream.once('open', () => {
      res.writeHead(plan.status, plan.headers);
      stream.pipe(res);
    });
  });
}

/** Resolves once `res` may take more (drain) or is gone (close). */
function writable(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Read buffers of MAX_READ_BYTES kept for reuse (at most this many): a large file costs no allocation per read, and no garbage collection of 1 MiB buffers. */
const MAX_SPARE_BUFFERS = 16;
const spareBuffers: Buffer[] = [];

/** Returns `buffer` for reuse: called only once the socket is done with it (its write callback). */
function giveBack(buffer: Buffer): void {
  if (spareBuffers.length < MAX_SPARE_BUFFERS) spareBuffers.push(buffer);
}

/**
 * Sends bytes `start..end` (inclusive) of `handle` on `res` in reads of at most MAX_READ_BYTES
 * into reused buffers (a buffer goes back only from its write's callback, when the socket no
 * longer holds it), waiting for drain between them; stops when the client is gone. Rejects on a
 * read error or when the file ends early.
 */
async function sendRange(res: ServerResponse, handle: FileHandle, start: number, end: number): Promise<void> {
  let position = start;
  while (position <= end) {
    if (res.destroyed) return;
    const buffer = spareBuffers.pop() ?? Buffer.allocUnsafeSlow(MAX_READ_BYTES);
    const length = Math.min(MAX_READ_BYTES, end - position + 1);
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(buffer, 0, length, position));
    } catch (err) {
      giveBack(buffer);
      throw err;
    }
    if (bytesRead === 0) {
      giveBack(buffer);
      throw new Error(`stored file ends at byte ${position}, before ${end + 1}`);
    }
    position += bytesRead;
    const chunk = buffer.subarray(0, bytesRead);
    if (position > end) {
      res.end(chunk, () => giveBack(buffer));
      return;
    }
    if (!res.write(chunk, () => giveBack(buffer))) await writable(res);
  }
}
