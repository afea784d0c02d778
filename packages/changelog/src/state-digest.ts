/**
 * Digest of a state: sha256 over the keys in sorted order (JS string order), each written as
 * u32be(byte length of key) key-utf8 u32be(byte length of value) value-msgpack. Two states have the
 * same digest iff they hold the same keys with the same encoded values.
 */
import { createHash } from 'node:crypto';

/** sha256 hex of the entries (key -> msgpack bytes of its value); order of the input does not matter. */
export function digestState(entries: Iterable<readonly [string, Uint8Array]>): string {
  const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const hash = createHash('sha256');
  const length = Buffer.alloc(4);
  for (const [key, value] of sorted) {
    const keyBytes = Buffer.from(key, 'utf8');
    length.writeUInt32BE(keyBytes.length);
    hash.update(length).update(keyBytes);
    length.writeUInt32BE(value.length);
    hash.update(length).update(value);
  }
  return hash.digest('hex');
}
