/** Public API of @wheelhouse/changelog: the changelog store, its record codec, the file store (wire frames: @wheelhouse/replication). */
export type { Change, ChangeRecord, EncodedRecord } from './change-record.js';
export { Changelog, type CommitListener, type OpenOptions, type StorageHealth } from './changelog.js';
export type { LevelOperation, LevelStore } from './level-store.js';
export type { Transaction } from './transaction.js';
export { decodeRecord, encodeRecord } from './record-codec.js';
export { FileStore, StagedFile, type PutOptions } from './file-store.js';
export { LOCK_FILE, lockDataDir, type DataDirLock } from './datadir-lock.js';
export type { PlainData } from './plain-data.js';
export {
  ChangelogError, DataDirInUseError, DiskFullError, IntegrityError, NotInitialisedError, RecordFormatError,
  SerialGapError, StorageFailedError, StoreClosedError, StoreCorruptError, TooLargeError, isDiskFull, storageError,
} from './errors.js';
export { SerialWaiters } from './serial-waiters.js';
