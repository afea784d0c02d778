/**
 * msgpack encoding of change records and state values. One deterministic Packr configuration:
 * plain maps as objects, no records/structures extension, no structured clone, floats as float64.
 * The bytes of a record are what the master stores, streams to replicas and replicas store verbatim.
 */
import { Packr } from 'msgpackr';
import type { Change, ChangeRecord } from './change-record.js';
import { RecordFormatError } from './errors.js';
import { freezePlainData } from './plain-data.js';

const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  moreTypes: false,
  structuredClone: false,
  bundleStrings: false,
  variableMapSize: true,
  int64AsType: 'number',
  useFloat32: 0,
});

/**
 * Encode a record as msgpack `{serial, at, changes: [{key, value}]}` (fields in that order).
 * Deterministic: equal records with equal key order give equal bytes. Returns a fresh copy that
 * shares no memory with the encoder. Throws TypeError on a malformed serial/at/key.
 */
export function encodeRecord(record: ChangeRecord): Uint8Array {
  if (!Number.isSafeInteger(record.serial) || record.serial < 0) throw new TypeError(`record serial must be a non-negative integer, got ${String(record.serial)}`);
  if (!Number.isFinite(record.at)) throw new TypeError(`record at must be a finite number of ms, got ${String(record.at)}`);
  const changes = record.changes.map(({ key, value }) => {
    if (typeof key !== 'string' || key === '') throw new TypeError('change key must be a non-empty string');
    return { key, value: value === undefined ? null : value };
  });
  return Uint8Array.from(packr.pack({ serial: record.serial, at: record.at, changes }));
}

/**
 * Decode and validate record bytes. The returned record and its values are deep-frozen plain data;
 * a change with value null is a delete. Throws RecordFormatError on bad msgpack or a wrong shape.
 */
export function decodeRecord(bytes: Uint8Array): ChangeRecord {
  let raw: unknown;
  try {
    raw = packr.unpack(freshView(bytes));
  } catch (err) {
    throw new RecordFormatError(`not msgpack (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RecordFormatError('not a map');
  const { serial, at, changes } = raw as Record<string, unknown>;
  if (typeof serial !== 'number' || !Number.isSafeInteger(serial) || serial < 0) throw new RecordFormatError('serial is not a non-negative integer');
  if (typeof at !== 'number' || !Number.isFinite(at)) throw new RecordFormatError('at is not a number');
  if (!Array.isArray(changes)) throw new RecordFormatError('changes is not an array');
  const out: Change[] = [];
  for (const [i, change] of (changes as unknown[]).entries()) {
    if (typeof change !== 'object' || change === null) throw new RecordFormatError(`change ${i} is not a map`);
    const { key, value } = change as Record<string, unknown>;
    if (typeof key !== 'string' || key === '') throw new RecordFormatError(`change ${i} has no key`);
    let frozen: unknown;
    try {
      frozen = value === null || value === undefined ? null : freezePlainData(value);
    } catch (err) {
      throw new RecordFormatError(`change ${i} (${key}): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    out.push(Object.freeze({ key, value: frozen }));
  }
  return Object.freeze({ serial, at, changes: Object.freeze(out) as Change[] });
}

/** msgpack bytes of one state value (as stored under `s!<key>` and hashed by the state digest). */
export function encodeValue(value: unknown): Uint8Array {
  return Uint8Array.from(packr.pack(value));
}

/** Decode a stored state value; returns deep-frozen plain data. Throws RecordFormatError if invalid. */
export function decodeValue(bytes: Uint8Array): unknown {
  try {
    return freezePlainData(packr.unpack(freshView(bytes)));
  } catch (err) {
    throw new RecordFormatError(`stored value: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** A new view on the same memory: msgpackr caches a `dataView` property on the buffer it decodes,
 *  which must not land on the caller's (or the store's) object. */
function freshView(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
