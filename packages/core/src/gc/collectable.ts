/**
 * The decisions of blob garbage collection, as functions over plain values (no disk, no clock):
 * which stored blobs may go, and whether every downstream replica has applied past a serial.
 * `blob-collector.ts` runs them against a file store.
 */

/** One blob found in the file store. */
export interface StoredBlob {
  /** lowercase sha256 hex */
  sha256: string;
  /** bytes */
  size: number;
  /** modification time, ms since the epoch (set when stored, refreshed when stored again) */
  mtimeMs: number;
}

/** What a node knows of one follower (a replica tailing its changelog feed). */
export interface FollowerPosition {
  id: string;
  /** last serial sent to / applied by the follower */
  serial: number;
  /** ms since the epoch of the last request (now while it streams) */
  lastSeen: number;
}

/**
 * The blobs that may be removed: not named by the state (`named`, from `blobsNamedByState`), not
 * pinned, and older than the grace period — a blob on disk that no key names yet may be an upload in
 * flight (uploads move their file into place inside the write transaction, before the record
 * commits), so nothing younger than `graceMs` is taken. `now` and `mtimeMs` in ms since the epoch.
 */
export function collectableBlobs(stored: Iterable<StoredBlob>, named: ReadonlySet<string>, now: number, graceMs: number, pinned: ReadonlySet<string> = new Set()): StoredBlob[] {
  const out: StoredBlob[] = [];
  for (const blob of stored) {
    if (named.has(blob.sha256) || pinned.has(blob.sha256)) continue;
    if (now - blob.mtimeMs < graceMs) continue;
    out.push(blob);
  }
  return out;
}

/** Whether the followers have all applied `serial`, and which ones hold it back. */
export interface FollowersVerdict {
  reached: boolean;
  /** ids of followers seen within the expiry that are still below the serial */
  behind: string[];
  /** ids of followers ignored because they were not seen within the expiry */
  expired: string[];
}

/**
 * Whether every follower seen in the last `expiryMs` has applied `serial` (so no follower will
 * still ask for a blob a record up to `serial` named). Followers not seen for longer are ignored —
 * a replica gone for longer than the expiry may find a blob of an old record gone (its file
 * replicator then lists it as failed and retries); such a replica is rebuilt from scratch.
 */
export function followersReached(followers: Iterable<FollowerPosition>, serial: number, now: number, expiryMs: number): FollowersVerdict {
  const behind: string[] = [];
  const expired: string[] = [];
  for (const f of followers) {
    if (now - f.lastSeen > expiryMs) expired.push(f.id);
    else if (f.serial < serial) behind.push(f.id);
  }
  return { reached: behind.length === 0, behind, expired };
}
