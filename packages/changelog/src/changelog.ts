/**
 * The changelog: a serial-numbered history of write transactions over a key/value state, kept in
 * one LevelDB database (or its in-memory twin). Every commit — a local `write` on a master or an
 * `apply` of a master's record on a replica — goes through `commitRecord`, which writes the record,
 * the new state values and the head in one batch and then updates the in-memory view.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { ChangeRecord, EncodedRecord } from './change-record.js';
import { CurrentState } from './current-state.js';
import {
  HEAD_KEY, META_PREFIX_LENGTH, META_RANGE, RECORD_RANGE, STATE_PREFIX_LENGTH, STATE_RANGE, UUID_KEY,
  bytesText, metaKey, recordKey, serialOfRecordKey, stateKey, textBytes,
} from './db-layout.js';
import {
  DataDirInUseError, NotInitialisedError, SerialGapError, StorageFailedError, StoreClosedError, StoreCorruptError, storageError,
} from './errors.js';
import { ExclusiveQueue } from './exclusive-queue.js';
import {
  type LevelOperation, type LevelStore, hasLevelFiles, isLockedError, openDiskStore, openMemoryStore,
} from './level-store.js';
import { decodeRecord, decodeValue, encodeRecord, encodeValue } from './record-codec.js';
import { SerialWaiters } from './serial-waiters.js';
import { reconcileWithDisk } from './storage-check.js';
import { digestState } from './state-digest.js';
import { PendingTransaction, type Transaction } from './transaction.js';

/** Options of `Changelog.open`. */
export interface OpenOptions {
  /** Directory holding the LevelDB database (created, with parents, when `create` is true). */
  location: string;
  /** Create the store (and its UUID) if it does not exist. Default false: NotInitialisedError. */
  create?: boolean;
  /** fsync each commit (LevelDB `sync: true`). Default true. */
  sync?: boolean;
  /** UUID of a store being created (restore of a backup keeps its UUID); default random. */
  uuid?: string;
  /**
   * After a failed batch, ms between automatic attempts to reopen the database and verify it
   * (see `recover`). Default 2,000; 0: only on an explicit `recover()` or the next write.
   */
  recoveryIntervalMs?: number;
}

interface LoadOptions {
  location: string;
  create: boolean;
  sync: boolean;
  uuid?: string | undefined;
  recoveryIntervalMs?: number | undefined;
  /** Opens the same database again (after a failed batch); undefined: the store cannot recover by itself. */
  reopen?: (() => Promise<LevelStore>) | undefined;
}

/**
 * Health of the store's writes (`/+status`, `/+ready`, metrics):
 * `ok` — writes are accepted; `failed` — a batch failed and writes are refused until the database
 * was reopened and verified (automatic, every `recoveryIntervalMs`); `stopped` — the disk does not
 * hold what was acknowledged, writes stay refused until an operator acts (docs/operations.md).
 */
export interface StorageHealth {
  state: 'ok' | 'failed' | 'stopped';
  /** Failed storage writes (batches) since the store was opened. */
  failures: number;
  /** Successful recoveries (reopen + verify) since the store was opened. */
  recoveries: number;
  /** While not ok: the error code (`EDISKFULL`, `ESTORAGE`), its message and when it began (ISO 8601). */
  code?: string;
  message?: string;
  since?: string;
}

interface Fault {
  error: StorageFailedError;
  since: number;
  final: boolean;
  /** When recovery was last tried (ms since epoch); writes try it at most once a second. */
  lastAttempt: number;
}

/** A listener called after each commit/apply. */
export type CommitListener = (record: ChangeRecord) => void;

/**
 * A changelog store: open with `Changelog.open` (LevelDB) or `Changelog.openInMemory` (twin).
 * Reads (`get`, `children`, `head`, `getMeta`) are synchronous from memory; writes are serialised.
 */
export class Changelog {
  /** Store UUID (32 hex chars), created once with the store; a new UUID means a different history. */
  readonly uuid: string;
  /** Directory of the database (':memory:' for the twin). */
  readonly location: string;
  private db: LevelStore;
  private readonly sync: boolean;
  private readonly reopen: (() => Promise<LevelStore>) | undefined;
  private readonly recoveryIntervalMs: number;
  private fault: Fault | undefined;
  private dbOpen = true;
  private failures = 0;
  private recoveries = 0;
  private recoveryTimer: NodeJS.Timeout | undefined;
  private readonly state: CurrentState;
  private readonly meta: Map<string, string>;
  private readonly queue = new ExclusiveQueue();
  private readonly waiters = new SerialWaiters();
  private readonly listeners = new Set<CommitListener>();
  private headSerial: number;
  private closing: Promise<void> | undefined;
  private writeGuard: (() => void) | undefined;

  private constructor(db: LevelStore, uuid: string, head: number, state: CurrentState, meta: Map<string, string>, opts: LoadOptions) {
    this.db = db;
    this.uuid = uuid;
    this.headSerial = head;
    this.state = state;
    this.meta = meta;
    this.location = opts.location;
    this.sync = opts.sync;
    this.reopen = opts.reopen;
    this.recoveryIntervalMs = opts.recoveryIntervalMs ?? 2_000;
  }

  /**
   * Open the LevelDB store at `opts.location`, loading its whole current state into memory.
   * Throws NotInitialisedError when there is no store and `create` is not true, StoreCorruptError
   * when head and records disagree, and level's open error when another process holds the lock.
   */
  static async open(opts: OpenOptions): Promise<Changelog> {
    const create = opts.create ?? false;
    if (!create && !(await hasLevelFiles(opts.location))) throw new NotInitialisedError(opts.location);
    if (create) await mkdir(opts.location, { recursive: true });
    let db: LevelStore;
    try {
      db = await openDiskStore(opts.location, create);
    } catch (err) {
      // LevelDB's own "Database failed to open" is not a message for people
      if (isLockedError(err)) throw new DataDirInUseError(opts.location, undefined);
      throw err;
    }
    return Changelog.load(db, {
      location: opts.location, create, sync: opts.sync ?? true, uuid: opts.uuid, recoveryIntervalMs: opts.recoveryIntervalMs,
      reopen: () => openDiskStore(opts.location, false),
    });
  }

  /**
   * Open a changelog on a database `open` returns (called again to reopen it after a failed batch).
   * For tests and wrappers (e.g. a store that fails batches on demand); `location` names it in messages.
   */
  static async openWith(open: () => Promise<LevelStore>, opts: { location: string; sync?: boolean; recoveryIntervalMs?: number }): Promise<Changelog> {
    return Changelog.load(await open(), { location: opts.location, create: true, sync: opts.sync ?? true, recoveryIntervalMs: opts.recoveryIntervalMs, reopen: open });
  }

  /** Open a fresh in-memory store (memory-level) running the same code as a disk store.
   *  `uuid` sets its UUID (default: random). */
  static async openInMemory(opts: { uuid?: string } = {}): Promise<Changelog> {
    if (opts.uuid !== undefined && opts.uuid === '') throw new TypeError('uuid must be a non-empty string');
    const db = await openMemoryStore();
    return Changelog.load(db, { location: ':memory:', create: true, sync: true, uuid: opts.uuid });
  }

  /**
   * Whether an initialised store exists at `location`. Opens it briefly without creating anything;
   * a store currently open elsewhere (locked) counts as existing.
   */
  static async exists(location: string): Promise<boolean> {
    if (!(await hasLevelFiles(location))) return false;
    let db: LevelStore;
    try {
      db = await openDiskStore(location, false);
    } catch (err) {
      if (isLockedError(err)) return true;
      throw err;
    }
    try {
      return (await db.get(UUID_KEY)) !== undefined;
    } finally {
      await db.close();
    }
  }

  private static async load(db: LevelStore, opts: LoadOptions): Promise<Changelog> {
    try {
      let uuidBytes = await db.get(UUID_KEY);
      if (uuidBytes === undefined) {
        if (!opts.create) throw new NotInitialisedError(opts.location);
        for await (const _ of db.keys({ limit: 1 })) throw new StoreCorruptError('database has data but no UUID');
        uuidBytes = textBytes(opts.uuid ?? randomBytes(16).toString('hex'));
        await db.batch([{ type: 'put', key: UUID_KEY, value: uuidBytes }], { sync: opts.sync });
      }
      const head = await readHead(db);
      await checkRecords(db, head);
      const state = new CurrentState();
      for await (const [key, value] of db.iterator(STATE_RANGE)) state.set(key.slice(STATE_PREFIX_LENGTH), decodeValue(value));
      const meta = new Map<string, string>();
      for await (const [key, value] of db.iterator(META_RANGE)) meta.set(key.slice(META_PREFIX_LENGTH), bytesText(value));
      return new Changelog(db, bytesText(uuidBytes), head, state, meta, opts);
    } catch (err) {
      await db.close().catch(() => undefined);
      throw err;
    }
  }

  /** Keys of the current state starting with `prefix`, sorted (a scan: for start-up and maintenance, not per request). */
  keysWithPrefix(prefix: string): string[] {
    return this.state.sortedKeys().filter((k) => k.startsWith(prefix));
  }

  /** Every key of the current state with its (frozen) value, sorted by key. For dumps. */
  entries(): Array<[string, unknown]> {
    return this.state.sortedKeys().map((k) => [k, this.state.get(k)]);
  }

  /** Last committed serial; -1 when the store is empty. */
  get head(): number {
    return this.headSerial;
  }

  /** Current value of key (deep-frozen plain data), or undefined. Synchronous, from memory. */
  get<T = unknown>(key: string): T | undefined {
    return this.state.get(key) as T | undefined;
  }

  /** Sorted keys whose parent (key up to its last '/'; '' for keys without '/') is `parent`. Synchronous. */
  children(parent: string): string[] {
    return this.state.children(parent);
  }

  /**
   * Run fn exclusively (one writer at a time, queued), then commit what it set/deleted as ONE record
   * with serial head+1 in ONE LevelDB batch (record + state + head). If fn throws, nothing is written
   * and the error propagates. If fn made no changes, no record is written and serial is null.
   * Do not call `write`/`apply` from inside fn: it would wait for itself. Rejects with
   * StoreClosedError after close().
   */
  write<T>(fn: (tx: Transaction) => T | Promise<T>): Promise<{ serial: number | null; result: T }> {
    if (this.closing) return Promise.reject(new StoreClosedError());
    return this.queue.run(async () => {
      await this.writable();
      this.writeGuard?.();
      const tx = new PendingTransaction(this.headSerial + 1, Date.now(), this.state);
      let result: T;
      try {
        result = await fn(tx);
      } catch (err) {
        tx.seal();
        throw err;
      }
      const changes = tx.seal();
      if (changes.length === 0) return { serial: null, result };
      const bytes = encodeRecord({ serial: tx.serial, at: tx.at, changes });
      await this.commitRecords([{ bytes, record: decodeRecord(bytes) }]);
      return { serial: tx.serial, result };
    });
  }

  /**
   * Refuse local writes (`write`) while `check` throws: each write calls it when its turn comes
   * and rejects with what it threw, committing nothing. `apply`/`applyMany` (the replica path) are
   * not guarded. A fenced master (docs/operations.md, "Promotion and rejoin") installs one so that
   * no write of any kind — API, mirror caching, cleanup — commits once its term is over.
   * `undefined` removes the guard.
   */
  guardWrites(check: (() => void) | undefined): void {
    this.writeGuard = check;
  }

  /**
   * Replica path: apply a record produced by another store's commit. Same code path as write.
   * record.serial <= head: no-op, resolves false. record.serial === head + 1: applied, resolves true.
   * Greater: rejects with SerialGapError. Accepts the decoded record or its encoded bytes (stored
   * verbatim, so the replica's stored bytes equal the master's). Bad bytes reject with RecordFormatError.
   */
  async apply(record: ChangeRecord | Uint8Array): Promise<boolean> {
    if (this.closing) throw new StoreClosedError();
    const bytes = record instanceof Uint8Array ? Uint8Array.from(record) : encodeRecord(record);
    const decoded = decodeRecord(bytes);
    return this.queue.run(async () => {
      await this.writable();
      if (decoded.serial <= this.headSerial) return false;
      if (decoded.serial !== this.headSerial + 1) throw new SerialGapError(this.headSerial + 1, decoded.serial);
      await this.commitRecords([{ bytes, record: decoded }]);
      return true;
    });
  }

  /**
   * Replica catch-up: applies a run of encoded records in one LevelDB batch (same semantics as
   * `apply` for each: already applied ones are skipped, a gap rejects with SerialGapError before
   * anything is written). Resolves with the number applied.
   */
  async applyMany(records: Uint8Array[]): Promise<number> {
    if (this.closing) throw new StoreClosedError();
    const decoded = records.map((r) => ({ bytes: Uint8Array.from(r), record: decodeRecord(r) }));
    return this.queue.run(async () => {
      await this.writable();
      const todo = decoded.filter((d) => d.record.serial > this.headSerial);
      let expected = this.headSerial + 1;
      for (const d of todo) {
        if (d.record.serial !== expected) throw new SerialGapError(expected, d.record.serial);
        expected++;
      }
      if (todo.length) await this.commitRecords(todo);
      return todo.length;
    });
  }

  /**
   * The one commit path (caller holds the queue; the records follow head without gap): one batch
   * with every record, state change and the new head; then the in-memory view, waiters and
   * listeners, record by record.
   */
  private async commitRecords(list: Array<{ bytes: Uint8Array; record: ChangeRecord }>): Promise<void> {
    const operations: LevelOperation[] = [];
    for (const { bytes, record } of list) {
      operations.push({ type: 'put', key: recordKey(record.serial), value: bytes });
      for (const { key, value } of record.changes) {
        operations.push(value === null ? { type: 'del', key: stateKey(key) } : { type: 'put', key: stateKey(key), value: encodeValue(value) });
      }
    }
    const last = list[list.length - 1]!.record.serial;
    operations.push({ type: 'put', key: HEAD_KEY, value: textBytes(String(last)) });
    await this.storeBatch(operations, list.length === 1 ? `commit of serial ${last}` : `commit of serials ${list[0]!.record.serial}..${last}`);
    for (const { record } of list) {
      for (const { key, value } of record.changes) {
        if (value === null) this.state.delete(key);
        else this.state.set(key, value);
      }
      this.headSerial = record.serial;
      this.waiters.notify(record.serial);
      for (const listener of [...this.listeners]) {
        try {
          listener(record);
        } catch (err) {
          process.emitWarning(`changelog onCommit listener threw at serial ${record.serial}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`, 'ChangelogListenerWarning');
        }
      }
    }
  }

  /**
   * Stored records with serial >= since (negative since = 0), in order, up to the head at the time
   * the iteration starts; ends there. Do not modify the yielded bytes.
   * Throws RangeError when since is not an integer, StoreClosedError after close().
   */
  async *changesSince(since: number): AsyncIterable<EncodedRecord> {
    if (!Number.isSafeInteger(since)) throw new RangeError(`since must be an integer serial, got ${since}`);
    if (this.closing) throw new StoreClosedError();
    if (!this.dbOpen) throw this.fault!.error;
    const from = Math.max(0, since);
    const to = this.headSerial;
    if (from > to) return;
    for await (const [key, bytes] of this.db.iterator({ gte: recordKey(from), lte: recordKey(to) })) {
      yield { serial: serialOfRecordKey(key), bytes };
    }
  }

  /** The stored record with this serial, or undefined when there is none. Do not modify the bytes. */
  async getRecord(serial: number): Promise<EncodedRecord | undefined> {
    if (this.closing) throw new StoreClosedError();
    if (!this.dbOpen) throw this.fault!.error;
    if (!Number.isSafeInteger(serial) || serial < 0 || serial > this.headSerial) return undefined;
    const bytes = await this.db.get(recordKey(serial));
    return bytes === undefined ? undefined : { serial, bytes };
  }

  /** Resolves true once head >= serial, false after timeoutMs (ms) or when the store closes. Never rejects. */
  waitForSerial(serial: number, timeoutMs: number): Promise<boolean> {
    if (this.headSerial >= serial) return Promise.resolve(true);
    if (this.closing) return Promise.resolve(false);
    return this.waiters.wait(serial, timeoutMs);
  }

  /**
   * Call listener synchronously after each commit/apply, once it is durable and visible through
   * get/head. The record's values are deep-frozen. A listener that throws does not undo anything;
   * its error is reported with process.emitWarning. Returns an unsubscribe function.
   */
  onCommit(listener: CommitListener): () => void {
    const entry: CommitListener = (record) => listener(record);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  /** Metadata value stored under name (outside the changelog, not replicated), or undefined. Sync. */
  getMeta(name: string): string | undefined {
    return this.meta.get(name);
  }

  /** Store a metadata value durably (queued behind pending writes). Rejects with StoreClosedError after close(). */
  setMeta(name: string, value: string): Promise<void> {
    if (this.closing) return Promise.reject(new StoreClosedError());
    return this.queue.run(async () => {
      await this.writable();
      await this.storeBatch([{ type: 'put', key: metaKey(name), value: textBytes(value) }], `metadata ${name}`);
      this.meta.set(name, value);
    });
  }

  /**
   * sha256 hex over the state at `serial` (default: head): sorted keys, each key and its msgpack
   * value (see state-digest.ts). Equal on two stores iff their states at that serial are equal.
   * At head it hashes the in-memory state; for serial < head it replays records 0..serial.
   * serial -1 is the empty state. Throws RangeError for a serial outside -1..head.
   */
  async stateDigest(serial?: number): Promise<string> {
    if (this.closing) throw new StoreClosedError();
    const head = this.headSerial;
    const target = serial ?? head;
    if (!Number.isSafeInteger(target) || target < -1 || target > head) throw new RangeError(`serial ${String(serial)} is outside -1..${head}`);
    if (target === head) {
      const entries: Array<[string, Uint8Array]> = [];
      for (const [key, value] of this.state.entries()) entries.push([key, encodeValue(value)]);
      return digestState(entries);
    }
    const replayed = new Map<string, Uint8Array>();
    if (target >= 0) {
      for await (const [, bytes] of this.db.iterator({ gte: recordKey(0), lte: recordKey(target) })) {
        for (const { key, value } of decodeRecord(bytes).changes) {
          if (value === null) replayed.delete(key);
          else replayed.set(key, encodeValue(value));
        }
      }
    }
    return digestState(replayed);
  }

  /** Health of the store's writes (see StorageHealth). */
  storageHealth(): StorageHealth {
    const base = { failures: this.failures, recoveries: this.recoveries };
    if (!this.fault) return { state: 'ok', ...base };
    const { error, since, final } = this.fault;
    return { state: final ? 'stopped' : 'failed', ...base, code: error.code, message: error.message, since: new Date(since).toISOString() };
  }

  /**
   * After a failed batch: close the database, open it again and reconcile it with what was
   * acknowledged (storage-check.ts); resolves true when writes are accepted again. Runs
   * automatically every `recoveryIntervalMs` and before the next write; no-op (true) when healthy.
   * Queued behind pending writes. Never rejects (a failed attempt stays in storageHealth()).
   */
  recover(): Promise<boolean> {
    if (this.closing) return Promise.resolve(false);
    return this.queue.run(() => this.tryRecover());
  }

  /** Caller holds the queue: throws the fault's error unless the store is (or could be made) healthy. */
  private async writable(): Promise<void> {
    const fault = this.fault;
    if (fault && (Date.now() - fault.lastAttempt < 1_000 || !(await this.tryRecover()))) throw fault.error;
  }

  /** The one place batches are written: a failure puts the store into the fault state and rejects with StorageFailedError/DiskFullError. */
  private async storeBatch(operations: LevelOperation[], what: string): Promise<void> {
    try {
      await this.db.batch(operations, { sync: this.sync });
    } catch (err) {
      this.failures++;
      this.fault = { error: storageError(this.location, what, err), since: Date.now(), final: this.reopen === undefined, lastAttempt: 0 };
      if (this.reopen && this.recoveryIntervalMs > 0 && !this.recoveryTimer) {
        this.recoveryTimer = setInterval(() => void this.recover(), this.recoveryIntervalMs);
        this.recoveryTimer.unref();
      }
      throw this.fault.error;
    }
  }

  private async tryRecover(): Promise<boolean> {
    const fault = this.fault;
    if (!fault) return true;
    if (fault.final || !this.reopen || this.closing) return false;
    fault.lastAttempt = Date.now();
    if (this.dbOpen) {
      this.dbOpen = false;
      await this.db.close().catch(() => undefined);
    }
    let db: LevelStore;
    try {
      db = await this.reopen();
    } catch (err) {
      fault.error = storageError(this.location, 'reopening the database after a failed write', err);
      return false;
    }
    this.db = db;
    this.dbOpen = true;
    try {
      const outcome = await reconcileWithDisk(db, this.sync, { head: this.headSerial, state: this.state, meta: this.meta });
      if (!outcome.ok) {
        fault.final = outcome.final;
        fault.error = new StorageFailedError(this.location, `storage at ${this.location} failed and cannot resume: ${outcome.reason} (first error: ${fault.error.message})`);
        return false;
      }
    } catch (err) {
      fault.error = storageError(this.location, 'verifying the database after a failed write', err);
      return false;
    }
    this.fault = undefined;
    this.recoveries++;
    clearInterval(this.recoveryTimer);
    this.recoveryTimer = undefined;
    process.emitWarning(`changelog at ${this.location}: storage recovered at serial ${this.headSerial} (reopened and verified)`, 'ChangelogStorageWarning');
    return true;
  }

  /**
   * Close the store: new calls reject with StoreClosedError, already queued writes finish,
   * pending waitForSerial calls resolve false, then the database closes. Idempotent.
   * Synchronous reads (get, children, head, getMeta) keep answering from memory.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.queue.idle();
      clearInterval(this.recoveryTimer);
      this.waiters.cancelAll();
      this.listeners.clear();
      if (this.dbOpen) await this.db.close();
    })();
    return this.closing;
  }
}

async function readHead(db: LevelStore): Promise<number> {
  const bytes = await db.get(HEAD_KEY);
  if (bytes === undefined) return -1;
  const text = bytesText(bytes);
  const head = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(head)) throw new StoreCorruptError(`head is not a serial: ${JSON.stringify(text)}`);
  return head;
}

/** Records must be exactly serials 0..head. */
async function checkRecords(db: LevelStore, head: number): Promise<void> {
  let expected = 0;
  for await (const key of db.keys(RECORD_RANGE)) {
    const serial = serialOfRecordKey(key);
    if (Number.isNaN(serial)) throw new StoreCorruptError(`malformed record key ${JSON.stringify(key)}`);
    if (serial !== expected) throw new StoreCorruptError(serial > head ? `record ${serial} lies past head ${head}` : `record ${expected} is missing (next stored is ${serial})`);
    expected++;
  }
  if (expected - 1 !== head) throw new StoreCorruptError(`head is ${head} but the last record is ${expected - 1}`);
}
