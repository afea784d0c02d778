/**
 * @wheelhouse/replication — both ends of the master → replica replication protocol, in one place
 * (devpi's `replica.py` keeps feed, tailer and file replication together the same way). Neither
 * role imports the other: the master mounts the feed, the replica runs the tailer and the file
 * replicator, and both build on `@wheelhouse/changelog`.
 *
 * **Feed URLs** (served by the master, and by replicas for backups and chained replicas;
 * `changelog-feed.ts`, frames from `feed-frames.ts`):
 * - `GET /+changelog/{serial}-` — a stream of frames: every record from `serial` on, then held open,
 *   each new record sent the moment it commits (`Changelog.waitForSerial` resolves from the commit
 *   path; nothing polls). Headers go out at once (200, `X-Devpi-Serial` = the master's head,
 *   `X-Devpi-UUID` = its store UUID, `Content-Type: application/x-wheelhouse-changelog`), so a
 *   caught-up replica knows at once that its master is there.
 * - `GET /+changelog/{serial}` — that one record as a frame; for the next serial a long poll that
 *   answers `202` when nothing committed within the poll time (30 s).
 * - `404` for a serial beyond the next one (`head + 1`) or a malformed spec.
 * - `GET /+blob/{sha256}` — the bytes of one stored blob (release file, METADATA, mirror list page)
 *   with `Content-Length`; `404` when the master does not have it.
 *
 * **Frames** (`frames.ts`): `length (4 bytes, big-endian) | first 8 bytes of sha256(payload) |
 * payload`, the payload being the master's encoded change record (msgpack, stored verbatim by the
 * replica). The decoder takes a byte stream cut anywhere; a bad checksum (FrameChecksumError) or a
 * length above 256 MiB (FrameFormatError) drops the stream.
 *
 * **Heartbeats and long poll**: on an idle stream an empty frame (payload of 0 bytes) every 5 s;
 * the stream ends after 30 s without records and the replica reconnects from its head + 1.
 *
 * **Tokens**: every feed and blob request carries `Authorization: Bearer <token>`, a replica token
 * (subject `+replica`, HMAC with a key derived from the shared secret file, valid 5 minutes, minted
 * per request by `MasterClient`), plus `X-Wheelhouse-Replica-Id` / `-Url` so the master lists its
 * replicas. Without a valid token: `403` (the changelog carries password hashes and private
 * packages).
 *
 * **Tailer apply** (`tailer.ts`): one stream open at a time; every complete record of a received
 * chunk goes into one `Changelog.applyMany` batch (same commit path as writes; record N only at
 * N − 1 — a gap is refused with SerialGapError and nothing of that batch is applied), so state
 * digests (`stateDigest`) equal the master's at every serial. Transport and protocol errors back off
 * (100 ms doubling to 5 s) and retry for ever. The master's UUID is recorded on first contact; a
 * different one later is fatal (reads go on from the old state) or, when following new masters,
 * stops the tailer and reports the new UUID (`onMasterChange`).
 *
 * **Blob fetch, verify, back-off** (`file-replicator.ts`, `blob-retry.ts`): each applied `file/…`
 * (blob and METADATA blob) and `mirrorlist/…` change schedules its blobs in a p-queue (4 at a
 * time), fetched from `/+blob/{sha256}` and verified by the file store (sha256 and length; a bad
 * transfer is discarded). A failure retries after 1 s, doubling up to 60 s, beside the stream: one
 * bad blob never stalls later blobs or serials (devpi #489, #858, #1107). A read of a file not here
 * yet is fetched on demand and streamed while stored, the last chunk held back until the hash checks.
 *
 * The replica end talks to "the master" through `MasterSource` (stream from a serial, fetch a
 * blob); `MasterClient` implements it over HTTP, unit tests with a second in-memory changelog.
 */
export { FRAME_HEADER_BYTES, FrameDecoder, MAX_FRAME_PAYLOAD_BYTES, encodeFrame } from './frames.js';
export { FrameChecksumError, FrameFormatError } from './frame-errors.js';
export {
  FEED_HEARTBEAT_MS, FEED_POLL_MS, HEARTBEAT_FRAME, authorizeReplica, feedFrames, feedRecord, parseFeedSpec,
  type FeedFrame, type FeedFramesOptions, type FeedRequest,
} from './feed-frames.js';
export { FEED_CONTENT_TYPE, createChangelogFeed, type ChangelogFeed, type FeedOptions, type ReplicaInfo } from './changelog-feed.js';
export type { MasterBody, MasterResponse, MasterSource } from './master-source.js';
export { MasterClient, type MasterClientOptions } from './master-client.js';
export {
  EPOCH_KEY_PREFIX, currentEpoch, epochHistory, epochKey, feedVerdict, masterVerdict, newerTermStart, parseEpoch, trackEpoch, writeEpoch,
  type EpochRecord, type EpochSource, type EpochTracked, type EpochTracker,
} from './epochs.js';
export { Tailer, type TailState, type TailerOptions } from './tailer.js';
export { FileReplicator, type FailedFile, type FileReplicatorOptions } from './file-replicator.js';
export { DEFAULT_BLOB_RETRY, blobRetryDelayMs, type BlobRetryPolicy } from './blob-retry.js';
