/** Public API of @wheelhouse/changelog: the changelog store, its record and frame codecs, the file store. */
export type { Change, ChangeRecord, EncodedRecord } from './change-record.js';
export { Changelog, type CommitListener, type OpenOptions } from './changelog.js';
export type { Transaction } from './transaction.js';
export { decodeRecord, encodeRecord } from './record-codec.js';
export { FRAME_HEADER_BYTES, FrameDecoder, MAX_FRAME_PAYLOAD_BYTES, encodeFrame } from './frame.js';
export { FileStore, StagedFile, type PutOptions } from './file-store.js';
export type { PlainData } from './plain-data.js';
export {
  ChangelogError, FrameChecksumError, FrameFormatError, IntegrityError, NotInitialisedError, RecordFormatError,
  SerialGapError, StoreClosedError, StoreCorruptError, TooLargeError,
} from './errors.js';
