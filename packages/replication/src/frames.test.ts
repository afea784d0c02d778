import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameChecksumError, FrameFormatError } from './frame-errors.js';
import { FrameDecoder, encodeFrame } from './frames.js';

const payloads = [new Uint8Array([1, 2, 3]), new Uint8Array(0), Uint8Array.from({ length: 1000 }, (_, i) => i % 251)];
const stream = Buffer.concat(payloads.map(encodeFrame));

function decodeInChunks(bytes: Uint8Array, sizes: (i: number) => number): { out: Uint8Array[]; pending: number } {
  const decoder = new FrameDecoder();
  const out: Uint8Array[] = [];
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    const size = Math.max(1, sizes(i));
    out.push(...decoder.push(bytes.subarray(offset, offset + size)));
    offset += size;
  }
  return { out, pending: decoder.pending };
}

describe('frames', () => {
  it('round-trip however the stream is cut', () => {
    for (const sizes of [() => 1, () => stream.length, (i: number) => (i * 7) % 13 + 1, () => 12, () => 15]) {
      const { out, pending } = decodeInChunks(stream, sizes);
      assert.deepEqual(out.map((p) => Buffer.from(p)), payloads.map((p) => Buffer.from(p)));
      assert.equal(pending, 0);
    }
  });

  it('reports a truncated stream through pending', () => {
    const { out, pending } = decodeInChunks(stream.subarray(0, stream.length - 10), () => 100);
    assert.equal(out.length, 2);
    assert.equal(pending, 12 + 1000 - 10);
  });

  it('throws FrameChecksumError on any corrupted payload byte', () => {
    for (const position of [12, 13, 14]) {
      const corrupt = Buffer.from(stream);
      corrupt[position] = (corrupt[position] ?? 0) ^ 0xff;
      assert.throws(() => new FrameDecoder().push(corrupt), (err: unknown) => err instanceof FrameChecksumError && err.code === 'EFRAMECHECKSUM');
    }
  });

  it('throws FrameFormatError on an absurd length', () => {
    const header = new Uint8Array(12);
    new DataView(header.buffer).setUint32(0, 256 * 1024 * 1024 + 1);
    assert.throws(() => new FrameDecoder().push(header), FrameFormatError);
  });
});
