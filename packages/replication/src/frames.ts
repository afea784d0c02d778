/**
 * Wire framing of the replication stream. Each frame is:
 *   4 bytes  big-endian payload length (bytes)
 *   8 bytes  checksum: the first 8 bytes of sha256(payload)
 *   n bytes  payload (an encoded change record)
 */
import { createHash } from 'node:crypto';
import { FrameChecksumError, FrameFormatError } from './frame-errors.js';

/** Bytes before each payload: length (4) + checksum (8). */
export const FRAME_HEADER_BYTES = 12;
/** Largest payload a decoder accepts: 256 MiB. */
export const MAX_FRAME_PAYLOAD_BYTES = 256 * 1024 * 1024;

function checksum(payload: Uint8Array): Uint8Array {
  return createHash('sha256').update(payload).digest().subarray(0, 8);
}

/** Frame one payload (header + payload, a fresh buffer). Throws RangeError above 256 MiB. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_FRAME_PAYLOAD_BYTES) throw new RangeError(`frame payload of ${payload.length} bytes exceeds ${MAX_FRAME_PAYLOAD_BYTES}`);
  const frame = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  new DataView(frame.buffer).setUint32(0, payload.length, false);
  frame.set(checksum(payload), 4);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Incremental frame decoder for a byte stream cut at arbitrary places.
 * `push(chunk)` returns the payloads completed by that chunk, in order (possibly none).
 * Throws FrameChecksumError when a payload does not match its checksum and FrameFormatError when a
 * header announces more than 256 MiB; after a throw the decoder is unusable (drop the stream).
 * `pending` is the number of bytes buffered towards the next frame: non-zero at end of stream means
 * the stream was truncated.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private failed: Error | undefined;

  /** Bytes buffered and not yet returned as a payload. */
  get pending(): number {
    return this.buffered;
  }

  /** Add bytes from the stream; returns every payload completed so far. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failed) throw this.failed;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const payloads: Uint8Array[] = [];
    try {
      while (this.buffered >= FRAME_HEADER_BYTES) {
        const header = this.peek(FRAME_HEADER_BYTES);
        const length = new DataView(header.buffer, header.byteOffset, header.byteLength).getUint32(0, false);
        if (length > MAX_FRAME_PAYLOAD_BYTES) throw new FrameFormatError(`payload length ${length} exceeds ${MAX_FRAME_PAYLOAD_BYTES} bytes`);
        if (this.buffered < FRAME_HEADER_BYTES + length) break;
        this.take(FRAME_HEADER_BYTES);
        const payload = this.take(length);
        const expected = header.subarray(4, FRAME_HEADER_BYTES);
        const actual = checksum(payload);
        if (!actual.every((byte, i) => byte === expected[i])) throw new FrameChecksumError(length);
        payloads.push(payload);
      }
    } catch (err) {
      this.failed = err as Error;
      throw err;
    }
    return payloads;
  }

  /** The first n buffered bytes, copied (n <= buffered). */
  private peek(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    for (const chunk of this.chunks) {
      const part = chunk.subarray(0, n - filled);
      out.set(part, filled);
      filled += part.length;
      if (filled === n) break;
    }
    return out;
  }

  /** Remove and return the first n buffered bytes (n <= buffered); no copy when one chunk holds them. */
  private take(n: number): Uint8Array {
    const first = this.chunks[0];
    if (first !== undefined && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0];
      if (chunk === undefined) throw new Error('FrameDecoder: take beyond buffered bytes');
      const part = chunk.subarray(0, n - filled);
      out.set(part, filled);
      filled += part.length;
      if (part.length === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(part.length);
    }
    this.buffered -= n;
    return out;
  }
}
