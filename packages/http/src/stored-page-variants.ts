/**
 * Content-coded variants of pages stored on disk (a mirror's full project list: content-addressed
 * bytes whose ETag is their sha256), compressed once per (page, coding) and kept in memory up to a
 * byte budget — the stored counterpart of content-coding.ts's in-memory pages. The compression runs
 * on zlib's thread pool (a list of every PyPI project is about 30 MB of HTML), and requests that
 * arrive while it runs wait for the same work. Release files never come here: they are sent as
 * stored.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { COMPRESS_MIN_BYTES, encodedEtag, negotiateEncoding, type ContentCoding } from './content-coding.js';
import { sendBody, sendStoredBody, type StoredBody } from './file-response.js';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);
const BROTLI_OPTIONS = { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT, [constants.BROTLI_PARAM_SIZE_HINT]: 0 } };

/** Stored pages larger than this many bytes are sent as stored (reading and compressing them would hold too much memory at once). */
export const STORED_COMPRESS_MAX_BYTES = 256 * 1024 * 1024;

/** The variants kept, by `<etag> <coding>`, within `maxBytes` (oldest dropped first). */
export class StoredPageVariants {
  private readonly kept = new Map<string, Buffer>();
  private readonly running = new Map<string, Promise<Buffer>>();
  private bytes = 0;

  /** `maxBytes`: the budget of kept variants (default 64 MiB); a variant larger than it is made for its request only. */
  constructor(readonly maxBytes = 64 * 1024 * 1024) {}

  /** Bytes held now. */
  get heldBytes(): number {
    return this.bytes;
  }

  /**
   * `file` in `coding`: kept, being made, or read and compressed now. Rejects with the read error
   * (ENOENT: the page is not on this node).
   */
  variant(file: StoredBody, coding: ContentCoding): Promise<Buffer> {
    const key = `${file.etag} ${coding}`;
    const hit = this.kept.get(key);
    if (hit) return Promise.resolve(hit);
    let work = this.running.get(key);
    if (!work) {
      work = (async () => {
        const plain = await readFile(file.path);
        return coding === 'gzip' ? gzipAsync(plain) : brotliAsync(plain, BROTLI_OPTIONS);
      })();
      this.running.set(key, work);
      work.then((b) => this.keep(key, b), () => undefined).finally(() => this.running.delete(key));
    }
    return work;
  }

  private keep(key: string, b: Buffer): void {
    if (b.length > this.maxBytes || this.kept.has(key)) return;
    this.kept.set(key, b);
    this.bytes += b.length;
    for (const [k, v] of this.kept) {
      if (this.bytes <= this.maxBytes) break;
      this.kept.delete(k);
      this.bytes -= v.length;
    }
  }
}

/** The variants every node's stored pages share (one process, one budget). */
export const storedPageVariants = new StoredPageVariants();

/**
 * Sends a stored page (mutable, e.g. a mirror's project list) in the coding the client prefers
 * (`br`, `gzip`; RFC 9110 §12.5.3) with `Content-Encoding`, `Vary: …, Accept-Encoding` and the
 * coding's own ETag (`"<sha256>-gzip"`); identity — streamed from disk — below COMPRESS_MIN_BYTES,
 * above STORED_COMPRESS_MAX_BYTES, or when the client accepts neither. 304, ranges and HEAD apply
 * to the representation sent. When the file is not on this node, `onMissing` answers instead
 * (before anything was sent). Resolves when the answer is complete.
 */
export async function sendStoredPage(
  req: IncomingMessage,
  res: ServerResponse,
  head: readonly string[],
  file: StoredBody,
  onMissing: () => unknown,
  variants: StoredPageVariants = storedPageVariants,
): Promise<void> {
  if (file.size < COMPRESS_MIN_BYTES) return sendStoredBody(req, res, head, file, onMissing);
  const vary = file.vary ? `${file.vary}, Accept-Encoding` : 'Accept-Encoding';
  const coding = file.size <= STORED_COMPRESS_MAX_BYTES ? negotiateEncoding(req.headers['accept-encoding']) : undefined;
  if (!coding) return sendStoredBody(req, res, head, { ...file, vary }, onMissing);
  let bytes: Buffer;
  try {
    bytes = await variants.variant(file, coding);
  } catch {
    await onMissing();
    return;
  }
  sendBody(req, res, [...head, 'Content-Encoding', coding], { ...file, etag: encodedEtag(file.etag, coding), vary }, bytes);
}
