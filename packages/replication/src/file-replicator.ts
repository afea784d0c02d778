/**
 * Release file replication: every blob a record names (`blobsNamedBy`: release files, METADATA
 * blobs, mirror list pages) is fetched from the master's `/+blob/{sha256}` through a bounded p-queue, with
 * the length and sha256 checked by the file store (a corrupt or truncated transfer is discarded) and
 * retried with exponential back-off. It runs beside the changelog stream: one failing file never
 * stalls later serials (devpi #489, #858, #1107). A read of a file not yet here is fetched on demand
 * and streamed to the client while it is stored (devpi #483); the last chunk is held back until the
 * hash is verified, so a client never receives a complete-looking corrupt file.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import { IntegrityError, type ChangeRecord, type Changelog, type FileStore } from '@wheelhouse/changelog';
import { BadGatewayError, blobsNamedBy, blobsNamedByState, streamWhileStoring, type FileEntry } from '@wheelhouse/core';
import { bodyHeaders, contentTypeFor } from '@wheelhouse/http';
import { DEFAULT_BLOB_RETRY, blobRetryDelayMs } from './blob-retry.js';
import type { MasterSource } from './master-source.js';

/** A file that could not be replicated yet. */
export interface FailedFile {
  sha256: string;
  error: string;
  attempts: number;
  /** ms since epoch of the next attempt */
  retryAt: number;
}

/** Options of the replicator. */
export interface FileReplicatorOptions {
  changelog: Changelog;
  files: FileStore;
  /** The master (`MasterClient`, or a fake in tests). */
  master: MasterSource;
  log: Logger;
  /** Parallel downloads (default 4). */
  concurrency?: number;
  /** First retry delay, ms (default 1,000); doubles up to `maxRetryMs` (default 60,000). */
  retryMs?: number;
  maxRetryMs?: number;
}

/** Timeout of one file download, ms. */
const FETCH_TIMEOUT_MS = 120_000;

/** Replicates release files (see module doc). */
export class FileReplicator {
  private readonly queue: PQueue;
  private readonly pending = new Set<string>();
  private readonly failed = new Map<string, FailedFile>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  private readonly settledListeners = new Set<(sha256: string, outcome: 'stored' | 'unavailable') => void>();
  /** files fetched since start */
  fetched = 0;

  constructor(private readonly opts: FileReplicatorOptions) {
    this.queue = new PQueue({ concurrency: opts.concurrency ?? 4 });
  }

  /** Schedules the files named by an applied record. */
  onRecord(record: ChangeRecord): void {
    for (const { key, value } of record.changes) for (const sha of blobsNamedBy(key, value)) this.schedule(sha);
  }

  /**
   * Schedules every file of the current state that is not on disk (at start-up, to resume);
   * `onMissing` hears each before it is scheduled.
   */
  async scheduleMissing(onMissing?: (sha256: string) => void): Promise<void> {
    const { changelog, files } = this.opts;
    for (const sha of blobsNamedByState(changelog.entries())) {
      if (!(await files.has(sha))) {
        onMissing?.(sha);
        this.schedule(sha);
      }
    }
  }

  /**
   * Calls `listener` each time a scheduled blob is settled: `stored` once it is on disk (fetched and
   * fsynced, or found there; also after an on-demand fetch), `unavailable` when the master answered
   * that it cannot deliver it — 404, or bytes that fail the sha256/size check (its own copy is lost
   * or damaged: devpi #489). An unavailable blob is still retried; transport errors settle nothing.
   * Returns an unsubscribe function.
   */
  onSettled(listener: (sha256: string, outcome: 'stored' | 'unavailable') => void): () => void {
    this.settledListeners.add(listener);
    return () => this.settledListeners.delete(listener);
  }

  private settled(sha256: string, outcome: 'stored' | 'unavailable'): void {
    for (const l of this.settledListeners) l(sha256, outcome);
  }

  /** Queues one blob (deduplicated). */
  schedule(sha256: string): void {
    if (this.closed || this.pending.has(sha256)) return;
    this.pending.add(sha256);
    void this.queue.add(() => this.fetch(sha256));
  }

  private async fetch(sha256: string): Promise<void> {
    try {
      if (!(await this.opts.files.has(sha256))) {
        const res = await this.opts.master.fetchBlob(sha256, FETCH_TIMEOUT_MS);
        if (res.statusCode !== 200) {
          const text = await res.body.text().catch(() => '');
          if (res.statusCode === 404) this.settled(sha256, 'unavailable');
          throw new Error(`master answered ${res.statusCode}: ${text.slice(0, 200)}`);
        }
        const size = Number(res.headers['content-length']);
        await this.opts.files.put(res.body, { expectedSha256: sha256, ...(Number.isSafeInteger(size) ? { expectedSize: size } : {}) });
        this.fetched++;
      }
      this.failed.delete(sha256);
      this.pending.delete(sha256);
      this.settled(sha256, 'stored');
    } catch (err) {
      if (err instanceof IntegrityError) this.settled(sha256, 'unavailable');
      const previous = this.failed.get(sha256);
      const attempts = (previous?.attempts ?? 0) + 1;
      const delay = blobRetryDelayMs(attempts, { firstMs: this.opts.retryMs ?? DEFAULT_BLOB_RETRY.firstMs, maxMs: this.opts.maxRetryMs ?? DEFAULT_BLOB_RETRY.maxMs });
      const error = (err as Error).message;
      this.failed.set(sha256, { sha256, error, attempts, retryAt: Date.now() + delay });
      if (attempts === 1 || attempts % 10 === 0) this.opts.log.warn({ sha256, attempts, err: error }, 'file replication failed; will retry');
      if (this.closed) return;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!this.closed) void this.queue.add(() => this.fetch(sha256));
      }, delay);
      this.timers.add(timer);
    }
  }

  /**
   * Serves a file whose entry exists but whose bytes are not here yet: fetched from the master and
   * streamed to the client while stored (see module doc). Rejects with BadGatewayError (502) when the
   * master cannot deliver it; once bytes went out the caller's guard cuts the connection instead.
   */
  async serveMissing(req: IncomingMessage, res: ServerResponse, entry: FileEntry, sha256: string, filename: string): Promise<void> {
    let upstream;
    try {
      upstream = await this.opts.master.fetchBlob(sha256, FETCH_TIMEOUT_MS);
    } catch (err) {
      throw new BadGatewayError(`${filename} is not yet on this replica and the master is unreachable: ${(err as Error).message}`);
    }
    if (upstream.statusCode !== 200) {
      await upstream.body.dump();
      throw new BadGatewayError(`${filename} is not yet on this replica and the master answered ${upstream.statusCode}`);
    }
    const size = Number(upstream.headers['content-length']);
    const head = bodyHeaders([], { etag: `"${sha256}"`, modified: entry.modified, contentType: contentTypeFor(filename), caching: 'immutable' });
    for (let i = 0; i < head.length; i += 2) res.setHeader(head[i]!, head[i + 1]!);
    if (Number.isSafeInteger(size)) res.setHeader('Content-Length', String(size));
    res.statusCode = 200;
    if (req.method === 'HEAD') {
      await upstream.body.dump();
      res.end();
      return;
    }
    try {
      await streamWhileStoring(res, upstream.body, this.opts.files, { sha256, ...(Number.isSafeInteger(size) ? { size } : {}) });
      this.failed.delete(sha256);
      this.fetched++;
      this.settled(sha256, 'stored');
    } catch (err) {
      this.opts.log.warn({ sha256, err: (err as Error).message }, 'on-demand file fetch failed');
      throw new BadGatewayError(`${filename}: transfer from the master failed: ${(err as Error).message}`);
    }
  }

  /** Queue and failure figures for `/+status` and metrics. */
  stats(): { queued: number; failed: FailedFile[]; fetched: number } {
    return { queued: this.pending.size, failed: [...this.failed.values()], fetched: this.fetched };
  }

  /** Stops scheduling retries and waits for running downloads. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.queue.clear();
    await this.queue.onIdle();
  }
}
