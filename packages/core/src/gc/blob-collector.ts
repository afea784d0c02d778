/**
 * Garbage collection of a node's file store (master and replica alike): a blob goes once no key of
 * the current state names it (`blobsNamedByState`), it is older than the grace period, no export or
 * backup holds a lease, and every follower seen lately has applied the serial at which it was found
 * unnamed (so no follower still fetches it for an older record).
 *
 * One run: mark — note the head serial H and the set the state at H names (synchronous, so one
 * consistent state) and walk the store (yielding every `batchSize` files); the blobs unnamed at H
 * and out of their grace period are this mark's candidates. Sweep — when the followers reached H,
 * this mark's candidates go; otherwise those of the previous mark, if the followers reached its
 * serial (a blob unnamed at both marks was unnamed all along). Nothing is ever locked: reads of named
 * blobs never see a sweep, and writes race it safely:
 *
 *   each candidate is renamed into `<root>/trash/` first, then checked again — named by a record
 *   committed since the mark, or touched within the grace period (the file store refreshes the mtime
 *   of a blob that is stored again) — and moved back if so, else unlinked. An upload of the same
 *   content that found the blob present touched it before the rename (seen by the check) or finds it
 *   gone and moves its own copy into place.
 *
 * A sweep that crashed between the rename and the unlink leaves files in trash; the next run moves
 * them back first and judges them again.
 *
 * Runs in bounded batches (default 500 files, then the event loop is yielded) in the background
 * (`start(intervalMs)`) and on demand (`run()`); never two at once.
 */
import { mkdir, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ChangeRecord, FileStore } from '@wheelhouse/changelog';
import type { Logger } from 'pino';
import { blobsNamedBy, blobsNamedByState } from '../model/named-blobs.js';
import { collectableBlobs, followersReached, type FollowerPosition, type StoredBlob } from './collectable.js';
import { liveBlobLeases } from './leases.js';

/** The state a collector reads (a `Changelog`, or a getter over a replica's current generation). */
export interface CollectedState {
  readonly head: number;
  entries(): Iterable<readonly [string, unknown]>;
  onCommit(listener: (record: ChangeRecord) => void): () => void;
}

/** Options of a {@link BlobCollector}. */
export interface BlobCollectorOptions {
  state: CollectedState;
  files: FileStore;
  /** The followers of this node (`feed.replicas()`); none for a replica without chained replicas. */
  followers: () => Iterable<FollowerPosition>;
  log?: Logger;
  /** Blobs younger than this are kept, ms (default 3,600,000 = 1 hour). */
  graceMs?: number;
  /** Followers not seen for this long are ignored, ms (default 86,400,000 = 1 day). */
  followerExpiryMs?: number;
  /** Files stat'ed or removed between yields of the event loop (default 500). */
  batchSize?: number;
  /** Called with the bytes of each removed blob (metrics). */
  onFreed?: (bytes: number) => void;
  /** Clock, ms since the epoch (tests). */
  now?: () => number;
}

/** The outcome of one run. */
export interface GcReport {
  /** serial of this run's mark */
  serial: number;
  /** blobs in the store before the sweep, and their bytes */
  storedFiles: number;
  storedBytes: number;
  /** blobs unnamed at the mark and past their grace period */
  candidates: number;
  freedFiles: number;
  freedBytes: number;
  /** candidates put back because a write named or stored them during the sweep */
  restored: number;
  /** why nothing (or only an older mark) was swept: `lease`, `followers-behind`, or null */
  held: 'lease' | 'followers-behind' | null;
  /** followers below the mark serial, and followers ignored as expired */
  behind: string[];
  expired: string[];
  /** wall time of the run, ms */
  ms: number;
}

/** Removals (rename, stat, unlink) run concurrently within a batch. */
const REMOVALS_IN_FLIGHT = 8;

interface Mark {
  serial: number;
  candidates: StoredBlob[];
}

/** Collects unnamed blobs of one file store (see module doc). */
export class BlobCollector {
  private readonly graceMs: number;
  private readonly expiryMs: number;
  private readonly batchSize: number;
  private readonly now: () => number;
  private previous: Mark | undefined;
  private running: Promise<GcReport> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The last finished run, if any. */
  last: GcReport | undefined;
  /** Blobs and bytes freed since this collector was made. */
  readonly totals = { files: 0, bytes: 0, runs: 0 };

  constructor(private readonly opts: BlobCollectorOptions) {
    this.graceMs = opts.graceMs ?? 3_600_000;
    this.expiryMs = opts.followerExpiryMs ?? 86_400_000;
    this.batchSize = Math.max(1, opts.batchSize ?? 500);
    this.now = opts.now ?? Date.now;
  }

  /** Blobs and bytes in the store after the last run's sweep (undefined before the first run). */
  storeUsage(): { files: number; bytes: number } | undefined {
    const l = this.last;
    return l ? { files: l.storedFiles - l.freedFiles, bytes: l.storedBytes - l.freedBytes } : undefined;
  }

  /** Runs one collection (or joins the one running). Rejects only on a file system error. */
  run(): Promise<GcReport> {
    this.running ??= this.runOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Runs every `intervalMs` in the background (errors are logged); `stop()` ends it. */
  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => {
      this.run().catch((err: unknown) => this.opts.log?.error({ err }, 'garbage collection failed'));
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the background runs (a run in progress finishes). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async runOnce(): Promise<GcReport> {
    const started = this.now();
    const { state, files } = this.opts;
    // names committed from the mark on: checked again right before each unlink
    const namedSince = new Set<string>();
    const unlisten = state.onCommit((r) => {
      for (const { key, value } of r.changes) for (const sha of blobsNamedBy(key, value)) namedSince.add(sha);
    });
    try {
      await this.recoverTrash();
      const serial = state.head;
      const named = blobsNamedByState(state.entries());
      const stored = await this.scan();
      const storedBytes = stored.reduce((n, b) => n + b.size, 0);
      const mark: Mark = { serial, candidates: collectableBlobs(stored, named, this.now(), this.graceMs) };
      const report: GcReport = {
        serial,
        storedFiles: stored.length,
        storedBytes,
        candidates: mark.candidates.length,
        freedFiles: 0,
        freedBytes: 0,
        restored: 0,
        held: null,
        behind: [],
        expired: [],
        ms: 0,
      };
      const leases = await liveBlobLeases(files.root, this.now());
      let sweep: StoredBlob[] = [];
      if (leases.length > 0) {
        report.held = 'lease';
      } else {
        const verdict = followersReached(this.opts.followers(), serial, this.now(), this.expiryMs);
        report.behind = verdict.behind;
        report.expired = verdict.expired;
        if (verdict.reached) {
          sweep = mark.candidates;
        } else {
          report.held = 'followers-behind';
          const prev = this.previous;
          if (prev && followersReached(this.opts.followers(), prev.serial, this.now(), this.expiryMs).reached) {
            const now = new Set(mark.candidates.map((b) => b.sha256));
            sweep = prev.candidates.filter((b) => now.has(b.sha256));
            this.previous = mark;
          }
          // else the older mark is kept, so the lagging followers can reach its serial first
          this.previous ??= mark;
        }
      }
      if (report.held !== 'followers-behind') this.previous = mark;
      if (sweep.length > 0) await mkdir(join(files.root, 'trash'), { recursive: true });
      // a few removals in flight at a time (file system latency), a yield after every batch
      for (let i = 0; i < sweep.length; i += REMOVALS_IN_FLIGHT) {
        const slice = sweep.slice(i, i + REMOVALS_IN_FLIGHT);
        const outcomes = await Promise.all(slice.map((blob) => this.remove(blob, namedSince)));
        outcomes.forEach((outcome, k) => {
          const blob = slice[k]!;
          if (outcome === 'removed') {
            report.freedFiles++;
            report.freedBytes += blob.size;
            this.opts.onFreed?.(blob.size);
          } else if (outcome === 'restored') {
            report.restored++;
          }
        });
        if (Math.floor((i + slice.length) / this.batchSize) > Math.floor(i / this.batchSize)) await yieldToEventLoop();
      }
      report.ms = this.now() - started;
      this.totals.files += report.freedFiles;
      this.totals.bytes += report.freedBytes;
      this.totals.runs++;
      this.last = report;
      if (report.freedFiles || report.held) this.opts.log?.info({ gc: report }, 'garbage collection');
      return report;
    } finally {
      unlisten();
    }
  }

  /** Moves back what a crashed sweep left in trash (it is judged again by this run). */
  private async recoverTrash(): Promise<void> {
    const { files } = this.opts;
    for (const name of await listDir(join(files.root, 'trash'))) {
      const sha = name.split('.')[0] ?? '';
      if (!/^[0-9a-f]{64}$/.test(sha)) continue;
      const path = files.pathFor(sha);
      await mkdir(join(path, '..'), { recursive: true });
      await rename(join(files.root, 'trash', name), path);
    }
  }

  /** Every blob of the store with size and mtime, yielding every `batchSize` stat calls. */
  private async scan(): Promise<StoredBlob[]> {
    const top = join(this.opts.files.root, 'sha256');
    const out: StoredBlob[] = [];
    let n = 0;
    for (const a of await listDir(top)) {
      for (const b of await listDir(join(top, a))) {
        for (const name of await listDir(join(top, a, b))) {
          if (!/^[0-9a-f]{64}$/.test(name)) continue;
          const info = await stat(join(top, a, b, name)).catch(() => undefined);
          if (info?.isFile()) out.push({ sha256: name, size: info.size, mtimeMs: info.mtimeMs });
          if (++n % this.batchSize === 0) await yieldToEventLoop();
        }
      }
    }
    return out;
  }

  /** Moves one blob to trash, checks it again, then unlinks it or puts it back (module doc). */
  private async remove(blob: StoredBlob, namedSince: ReadonlySet<string>): Promise<'removed' | 'restored' | 'gone'> {
    const { files } = this.opts;
    const path = files.pathFor(blob.sha256);
    const trashDir = join(files.root, 'trash');
    const trash = join(trashDir, `${blob.sha256}.${randomBytes(4).toString('hex')}`);
    try {
      await rename(path, trash);
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return 'gone';
      throw err;
    }
    const info = await stat(trash);
    if (namedSince.has(blob.sha256) || this.now() - info.mtimeMs < this.graceMs) {
      // a write named or stored it again since the mark: back into place (same content if a new copy landed meanwhile)
      await rename(trash, path);
      return 'restored';
    }
    await unlink(trash).catch(async () => rm(trash, { force: true }));
    return 'removed';
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return [];
    throw err;
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
