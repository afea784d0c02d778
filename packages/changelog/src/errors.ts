/**
 * Errors thrown by the changelog package. Every error carries a stable `code` string that callers
 * (e.g. the one terminal HTTP error handler) can switch on; messages are for people and may change.
 */

/** Base class of every error this package throws on purpose. `code` is stable across releases. */
export class ChangelogError extends Error {
  /** Stable machine-readable code, e.g. 'ESERIALGAP'. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** `Changelog.open` without `create` found no initialised store at the location. Code 'ENOTINIT'. */
export class NotInitialisedError extends ChangelogError {
  /** The directory that was opened. */
  readonly location: string;

  constructor(location: string) {
    super('ENOTINIT', `no changelog store at ${location} (open it with create: true to initialise one)`);
    this.location = location;
  }
}

/** `Changelog.apply` got a record that does not follow the head (serial > head + 1). Code 'ESERIALGAP'. */
export class SerialGapError extends ChangelogError {
  /** The serial the store can apply next (head + 1). */
  readonly expected: number;
  /** The serial of the record that was offered. */
  readonly got: number;

  constructor(expected: number, got: number) {
    super('ESERIALGAP', `cannot apply serial ${got}: the next serial of this store is ${expected}`);
    this.expected = expected;
    this.got = got;
  }
}

/** Bytes that are not a valid encoded change record (bad msgpack or wrong shape). Code 'ERECORDFORMAT'. */
export class RecordFormatError extends ChangelogError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERECORDFORMAT', `invalid change record: ${message}`, options);
  }
}

/**
 * Stored content does not match what the caller expected. Code 'EINTEGRITY'.
 * `kind` says what was compared: the sha256 hex digest or the size in bytes (as a decimal string).
 */
export class IntegrityError extends ChangelogError {
  /** What was compared. */
  readonly kind: 'sha256' | 'size';
  /** The expected sha256 hex, or the expected size in bytes as a decimal string. */
  readonly expected: string;
  /** The actual sha256 hex, or the actual size in bytes as a decimal string. */
  readonly actual: string;

  constructor(kind: 'sha256' | 'size', expected: string, actual: string) {
    super('EINTEGRITY', `${kind} mismatch: expected ${expected}, got ${actual}`);
    this.kind = kind;
    this.expected = expected;
    this.actual = actual;
  }
}

/** Content larger than the allowed maximum. Code 'ETOOLARGE'. */
export class TooLargeError extends ChangelogError {
  /** The limit that was exceeded, in bytes. */
  readonly maxBytes: number;

  constructor(maxBytes: number) {
    super('ETOOLARGE', `content exceeds the limit of ${maxBytes} bytes`);
    this.maxBytes = maxBytes;
  }
}

/**
 * The database on disk is inconsistent (head does not match the stored records, a serial is
 * missing, a stored value cannot be decoded). Never expected with atomic batches; the store refuses
 * to open rather than serve a broken history. Code 'ECORRUPT'.
 */
export class StoreCorruptError extends ChangelogError {
  constructor(message: string) {
    super('ECORRUPT', `changelog store is corrupt: ${message}`);
  }
}

/** An operation on a Changelog after `close()` was called. Code 'ECLOSED'. */
export class StoreClosedError extends ChangelogError {
  constructor() {
    super('ECLOSED', 'changelog store is closed');
  }
}

/**
 * A storage write failed (a LevelDB batch or a file-store write, fsync or rename): the commit did
 * not happen, and the store refuses every further write until it has reopened its database and
 * verified the head and state against the disk (fail-stop, as PostgreSQL does after a failed
 * fsync). Code 'ESTORAGE' (503); see DiskFullError for ENOSPC.
 */
export class StorageFailedError extends ChangelogError {
  /** The directory of the store that failed (the LevelDB or file-store root). */
  readonly location: string;

  constructor(location: string, message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'ESTORAGE', message, options);
    this.location = location;
  }
}

/** The disk holding a store is full (ENOSPC, EDQUOT): nothing was committed. Code 'EDISKFULL' (507 Insufficient Storage, RFC 4918 §11.5). */
export class DiskFullError extends StorageFailedError {
  constructor(location: string, message: string, options?: { cause?: unknown }) {
    super(location, message, { ...options, code: 'EDISKFULL' });
  }
}

/** Whether err (or one of its causes) says the disk is full: errno ENOSPC/EDQUOT, or LevelDB's "No space left on device". */
export function isDiskFull(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EDISKFULL') return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && /no space left on device|disk quota exceeded/i.test(message)) return true;
  }
  return false;
}

/**
 * The error a failed storage write is reported as: DiskFullError naming `location` for a full
 * disk, else StorageFailedError; `what` says what was being written (e.g. "commit of serial 7").
 * Already-wrapped errors pass through unchanged.
 */
export function storageError(location: string, what: string, err: unknown): StorageFailedError {
  if (err instanceof StorageFailedError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  if (isDiskFull(err)) {
    return new DiskFullError(location, `no space left on the disk holding ${location}: ${what} failed and nothing was committed; free space on that disk (writes resume once the store has verified itself)`, { cause: err });
  }
  return new StorageFailedError(location, `storage write failed at ${location}: ${what} (${detail}); nothing was committed`, { cause: err });
}

/** Another live process holds the data directory (its lock file, or LevelDB's LOCK). Code 'EDATADIRINUSE'. */
export class DataDirInUseError extends ChangelogError {
  /** The data directory (or database directory) that is in use. */
  readonly datadir: string;
  /** The pid holding it, when known. */
  readonly pid: number | undefined;

  constructor(datadir: string, pid: number | undefined) {
    super('EDATADIRINUSE', pid === undefined ? `data directory ${datadir} is in use by another process` : `data directory ${datadir} is in use by process ${pid}`);
    this.datadir = datadir;
    this.pid = pid;
  }
}
