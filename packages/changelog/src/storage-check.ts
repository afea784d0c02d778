/**
 * After a failed batch the LevelDB handle is not trusted (its log may hold a torn record, and
 * LevelDB may drop every record written after it at the next open — how a full disk once lost
 * acknowledged serials). The changelog closes it, opens the database afresh (LevelDB recovers its
 * log into a new table) and calls `reconcileWithDisk` before it accepts another write:
 * - disk head == acknowledged head: the state on disk must equal the in-memory state (digest);
 * - disk head  > acknowledged head: the failed batch landed after all; it is rolled back (records
 *   removed, state keys and head restored), because its client was told it did not happen;
 * - disk head  < acknowledged head: acknowledged serials are missing on disk — never resumed
 *   automatically (an operator restores or restarts; see docs/operations.md).
 */
import type { CurrentState } from './current-state.js';
import {
  HEAD_KEY, META_PREFIX_LENGTH, META_RANGE, RECORD_RANGE, STATE_PREFIX_LENGTH, STATE_RANGE,
  bytesText, metaKey, recordKey, serialOfRecordKey, stateKey, textBytes,
} from './db-layout.js';
import type { LevelOperation, LevelStore } from './level-store.js';
import { decodeRecord, decodeValue, encodeValue } from './record-codec.js';
import { digestState } from './state-digest.js';

/** Outcome of a reconciliation: `ok`, or why writes must stay refused (`final`: only an operator can fix it). */
export type Reconciliation = { ok: true; rolledBack: number } | { ok: false; final: boolean; reason: string };

/** What the changelog acknowledged: its head, in-memory state and metadata. */
export interface AcknowledgedState {
  head: number;
  state: CurrentState;
  meta: ReadonlyMap<string, string>;
}

/** Brings a freshly reopened database in line with the acknowledged state, or says why it cannot (see module doc). */
export async function reconcileWithDisk(db: LevelStore, sync: boolean, acked: AcknowledgedState): Promise<Reconciliation> {
  const diskHead = await storedHead(db);
  if (diskHead < acked.head) {
    return { ok: false, final: true, reason: `the disk holds serials up to ${diskHead} but serial ${acked.head} was acknowledged; refusing writes until an operator acts` };
  }
  const operations: LevelOperation[] = [];
  let rolledBack = 0;
  if (diskHead > acked.head) {
    const touched = new Set<string>();
    for await (const [key, bytes] of db.iterator({ gte: recordKey(acked.head + 1), lt: RECORD_RANGE.lt })) {
      operations.push({ type: 'del', key });
      for (const { key: k } of decodeRecord(bytes).changes) touched.add(k);
      rolledBack++;
    }
    for (const k of touched) {
      const value = acked.state.get(k);
      operations.push(value === undefined ? { type: 'del', key: stateKey(k) } : { type: 'put', key: stateKey(k), value: encodeValue(value) });
    }
    operations.push(acked.head < 0 ? { type: 'del', key: HEAD_KEY } : { type: 'put', key: HEAD_KEY, value: textBytes(String(acked.head)) });
  }
  const diskMeta = new Map<string, string>();
  for await (const [key, value] of db.iterator(META_RANGE)) diskMeta.set(key.slice(META_PREFIX_LENGTH), bytesText(value));
  for (const [name, value] of acked.meta) if (diskMeta.get(name) !== value) operations.push({ type: 'put', key: metaKey(name), value: textBytes(value) });
  for (const name of diskMeta.keys()) if (!acked.meta.has(name)) operations.push({ type: 'del', key: metaKey(name) });
  if (operations.length) await db.batch(operations, { sync });

  if ((await storedHead(db)) !== acked.head) return { ok: false, final: false, reason: 'the head on disk did not match after the rollback' };
  const lastRecord = await lastStoredSerial(db);
  if (lastRecord !== acked.head) return { ok: false, final: true, reason: `the last record on disk is ${lastRecord} but the acknowledged head is ${acked.head}` };
  const onDisk: Array<[string, Uint8Array]> = [];
  for await (const [key, value] of db.iterator(STATE_RANGE)) onDisk.push([key.slice(STATE_PREFIX_LENGTH), encodeValue(decodeValue(value))]);
  const inMemory: Array<[string, Uint8Array]> = [];
  for (const [key, value] of acked.state.entries()) inMemory.push([key, encodeValue(value)]);
  if (digestState(onDisk) !== digestState(inMemory)) {
    return { ok: false, final: true, reason: `the state on disk differs from the acknowledged state at serial ${acked.head}` };
  }
  return { ok: true, rolledBack };
}

async function storedHead(db: LevelStore): Promise<number> {
  const bytes = await db.get(HEAD_KEY);
  return bytes === undefined ? -1 : Number(bytesText(bytes));
}

async function lastStoredSerial(db: LevelStore): Promise<number> {
  for await (const key of db.keys({ ...RECORD_RANGE, reverse: true, limit: 1 })) return serialOfRecordKey(key);
  return -1;
}
