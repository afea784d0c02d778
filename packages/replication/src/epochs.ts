/**
 * Epochs: one number per master term, kept in the changelog itself so every replica holds the
 * history it followed (docs/operations.md, "Promotion and rejoin"). `init` writes epoch 1 into
 * serial 0; each promotion commits the next epoch as one record (`+epoch/<n>`). A store without
 * any epoch key (made before epochs existed) is in epoch 1 from serial 0.
 *
 * The decisions here are plain functions of an epoch history and numbers, so the feed, the tailer,
 * the master's fencing and the proxy share one rule and it is unit-tested without sockets:
 * - `feedVerdict`: what the master's feed does with a replica that says its epoch and head;
 * - `masterVerdict`: what a replica's tailer does with a master that says its epoch and UUID.
 */
import type { Transaction } from '@wheelhouse/changelog';

/** Prefix of the epoch keys in the state: `+epoch/1`, `+epoch/2`, … */
export const EPOCH_KEY_PREFIX = '+epoch/';
/** Parent of the epoch keys (for `children`). */
const EPOCH_PARENT = '+epoch';

/** One master term as recorded in the changelog. */
export interface EpochRecord {
  /** 1, 2, … */
  epoch: number;
  /** Store UUID of the term's master. */
  uuid: string;
  /** Outside URL of the term's master ('' unknown). */
  url: string;
  /** First serial of the term: the serial of this record (0 for epoch 1). */
  serial: number;
  /** When the term began, ms since epoch. */
  at: number;
  /** Promoted with `--force` (serials may be missing). */
  forced?: boolean;
}

/** What epoch functions read: a changelog, a snapshot or a transaction. */
export interface EpochSource {
  get(key: string): unknown;
  children(parent: string): string[];
}

/** The key of epoch `n`. */
export function epochKey(n: number): string {
  return `${EPOCH_KEY_PREFIX}${n}`;
}

/**
 * The epoch history of a state, oldest first. A store without epoch keys yields the implicit
 * epoch 1 from serial 0 (uuid/url ''). Malformed entries are skipped.
 */
export function epochHistory(state: EpochSource): EpochRecord[] {
  const list: EpochRecord[] = [];
  for (const key of state.children(EPOCH_PARENT)) {
    const value = state.get(key) as Partial<EpochRecord> | undefined;
    if (value && Number.isSafeInteger(value.epoch) && Number.isSafeInteger(value.serial)) {
      list.push({ epoch: value.epoch!, uuid: String(value.uuid ?? ''), url: String(value.url ?? ''), serial: value.serial!, at: Number(value.at ?? 0), ...(value.forced ? { forced: true } : {}) });
    }
  }
  list.sort((a, b) => a.epoch - b.epoch);
  if (list.length === 0 || list[0]!.epoch > 1) list.unshift({ epoch: 1, uuid: '', url: '', serial: 0, at: 0 });
  return list;
}

/** The epoch the state is in: the highest recorded (1 when none is). */
export function currentEpoch(state: EpochSource): number {
  const history = epochHistory(state);
  return history[history.length - 1]!.epoch;
}

/** Writes epoch record `rec` in transaction `tx` (its serial must be the transaction's). */
export function writeEpoch(tx: Transaction, rec: EpochRecord): void {
  if (rec.serial !== tx.serial) throw new RangeError(`epoch ${rec.epoch} must start at the serial it is written in (${tx.serial}), not ${rec.serial}`);
  tx.set(epochKey(rec.epoch), { ...rec });
}

/**
 * First serial of the first term newer than `epoch` in `history`, or undefined when `history` has
 * no newer term. Records below it are shared by every node that followed the older term up to it.
 */
export function newerTermStart(history: readonly EpochRecord[], epoch: number): number | undefined {
  return history.find((e) => e.epoch > epoch)?.serial;
}

/** Parses an epoch header value: a positive safe integer, else undefined (absent or malformed: no claim). */
export function parseEpoch(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || !/^\d{1,15}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 ? n : undefined;
}

/**
 * What the master's feed does with a replica that sends its epoch (`replicaEpoch`, undefined when
 * it sent none) and wants records from `since` (its head + 1):
 * - `serve`: same epoch, or an older one whose records are all before the newer term began;
 * - `fence`: the replica knows a higher epoch than the master's: the master is stale (fences itself);
 * - `diverged`: the replica holds records at or past the start of a newer term (it followed an old
 *   master beyond the point where this term began): it must rejoin.
 */
export function feedVerdict(history: readonly EpochRecord[], replicaEpoch: number | undefined, since: number): 'serve' | 'fence' | 'diverged' {
  const own = history[history.length - 1]!.epoch;
  if (replicaEpoch === undefined || replicaEpoch === own) return 'serve';
  if (replicaEpoch > own) return 'fence';
  const start = newerTermStart(history, replicaEpoch);
  return start !== undefined && since - 1 >= start ? 'diverged' : 'serve';
}

/**
 * What a replica's tailer does with a master that says `masterEpoch` (undefined: a master from
 * before epochs, taken as epoch 1) while the replica is in `ownEpoch`:
 * - `follow`: same or higher epoch (a higher one is a promotion; its epoch record comes in the stream);
 * - `refuse`: a lower epoch: an old master come back; never take its records.
 */
export function masterVerdict(ownEpoch: number, masterEpoch: number | undefined): 'follow' | 'refuse' {
  return (masterEpoch ?? 1) < ownEpoch ? 'refuse' : 'follow';
}

/** A changelog whose epoch is followed as it commits. */
export interface EpochTracked extends EpochSource {
  onCommit(listener: (record: { changes: ReadonlyArray<{ key: string }> }) => void): () => void;
}

/** The epoch of a changelog, kept current from its commits (cheap enough for every response header). */
export interface EpochTracker {
  /** The epoch the changelog is in now. */
  epoch(): number;
  /** Its epoch history, oldest first. */
  history(): EpochRecord[];
  /** Stops following commits. */
  stop(): void;
}

/** Follows `changelog`'s epoch (recomputed only on commits that write an epoch key). */
export function trackEpoch(changelog: EpochTracked): EpochTracker {
  let history = epochHistory(changelog);
  const stop = changelog.onCommit((record) => {
    if (record.changes.some((c) => c.key.startsWith(EPOCH_KEY_PREFIX))) history = epochHistory(changelog);
  });
  return { epoch: () => history[history.length - 1]!.epoch, history: () => history, stop };
}
