/** The shapes of the changelog: changes, records and records as stored / sent on the wire. */

/** One change to the current state: set `key` to `value`, or delete `key` when `value` is null. */
export interface Change {
  key: string;
  value: unknown | null;
}

/**
 * A committed write transaction. `serial`: 0, 1, 2, ... one per commit, never reused.
 * `at`: commit time in ms since the epoch. `changes`: at most one change per key, sorted by key
 * for records this package produces.
 */
export interface ChangeRecord {
  serial: number;
  at: number;
  changes: Change[];
}

/** A record as stored and sent on the wire: its serial and its msgpack bytes (see `encodeRecord`). */
export interface EncodedRecord {
  serial: number;
  bytes: Uint8Array;
}
