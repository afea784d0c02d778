/**
 * Key layout of the one LevelDB database behind a changelog (utf8 keys, binary values):
 *   r!<serial, 12 digits>  encoded change record
 *   s!<key>                msgpack of the current value of <key>
 *   m!head                 last committed serial (decimal text); absent = -1 (empty)
 *   m!uuid                 store UUID (text)
 *   m!meta!<name>          metadata value (text), not replicated
 */

/** Width of the zero-padded serial in record keys (serials up to 10^12 - 1). */
export const SERIAL_DIGITS = 12;

/** LevelDB key of the record with this serial. */
export function recordKey(serial: number): string {
  return `r!${String(serial).padStart(SERIAL_DIGITS, '0')}`;
}

/** Serial of a record key (inverse of recordKey); NaN when the key is malformed. */
export function serialOfRecordKey(key: string): number {
  const digits = key.slice(2);
  return /^\d+$/.test(digits) && digits.length === SERIAL_DIGITS ? Number(digits) : Number.NaN;
}

/** LevelDB key range of all records. */
export const RECORD_RANGE = { gte: 'r!', lt: 'r"' } as const;

/** LevelDB key of a state key's current value. */
export function stateKey(key: string): string {
  return `s!${key}`;
}

/** LevelDB key range of the whole current state; strip STATE_PREFIX_LENGTH chars to get the key. */
export const STATE_RANGE = { gte: 's!', lt: 's"' } as const;
export const STATE_PREFIX_LENGTH = 2;

/** LevelDB key of the head serial. */
export const HEAD_KEY = 'm!head';
/** LevelDB key of the store UUID. */
export const UUID_KEY = 'm!uuid';

/** LevelDB key of a metadata entry. */
export function metaKey(name: string): string {
  return `m!meta!${name}`;
}

/** LevelDB key range of all metadata entries; strip META_PREFIX_LENGTH chars to get the name. */
export const META_RANGE = { gte: 'm!meta!', lt: 'm!meta"' } as const;
export const META_PREFIX_LENGTH = 7;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of a text value (head, uuid, metadata are stored as text). */
export function textBytes(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Text of stored UTF-8 bytes; throws TypeError on invalid UTF-8. */
export function bytesText(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}
