/**
 * The replica's confirmations to its master (acknowledged means replicated; the master's end is
 * `sync-replication.ts`). The tailer pipelines — records arrive on an open stream before the
 * earlier ones are applied — so the serial a replica asks for says nothing about what it holds;
 * instead the replica confirms, by `POST /+changelog-ack/{serial}`, the highest serial S such that:
 *
 * - every record up to S is applied and fsynced (the replica's changelog commits with `sync`), and
 * - every blob those records name (`blobsNamedBy`: release files, METADATA, test results, docs) is
 *   stored and fsynced — a promoted replica must be able to serve every acknowledged upload.
 *
 * Blobs are tracked per serial from the commit path (the same listener that schedules them in the
 * file replicator) and released by the replicator's `onSettled`: stored here, or `unavailable` —
 * the master itself answered 404 or damaged bytes for it, so this replica holds all the master
 * can give; it keeps retrying and lists the file as failed, but it does not hold every later
 * write's confirmation hostage (which would turn one lost file into 503s for every upload). At start-up the replica confirms
 * nothing until the files of the state it resumed from are on disk (`scheduleMissing`). At most
 * one confirmation is in flight; newer serials coalesce into the next one. A failed confirmation
 * is retried with the next change or stream (`resend`), or after a back-off (100 ms doubling to
 * 5 s) when nothing else happens.
 */
import type { Logger } from 'pino';
import type { ChangeRecord } from '@wheelhouse/changelog';
import { blobsNamedBy } from '@wheelhouse/core';

/** Timeout of one confirmation request, ms. */
export const ACK_TIMEOUT_MS = 10_000;

/** Options of {@link DurableAcks}. */
export interface DurableAcksOptions {
  /** The replica's applied (durable) head serial. */
  head: () => number;
  /** Sends one confirmation (`MasterClient.ackSerial`); rejects on failure. */
  send: (serial: number) => Promise<void>;
  log?: Logger;
}

/** Tracks what is durable and confirms it to the master (see module doc). */
export class DurableAcks {
  /** serial → blobs of its record not on disk yet */
  private readonly waitingBySerial = new Map<number, Set<string>>();
  /** blob → serials waiting for it */
  private readonly serialsByBlob = new Map<string, Set<number>>();
  private scanned = false;
  private sent = -1;
  private inFlight = false;
  private failing = false;
  private retryMs = 100;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  /** confirmations sent successfully since start */
  confirmations = 0;

  constructor(private readonly opts: DurableAcksOptions) {}

  /** A record was applied (call from the commit listener, beside the file replicator's `onRecord`). */
  onRecord(record: ChangeRecord): void {
    for (const { key, value } of record.changes) for (const sha of blobsNamedBy(key, value)) this.track(record.serial, sha);
    this.flush();
  }

  /** A blob of the resumed state is missing (start-up scan): nothing is confirmed until it is stored. */
  onMissing(sha256: string): void {
    this.track(-1, sha256);
  }

  /** The start-up scan is complete: confirmations may begin. */
  onScanned(): void {
    this.scanned = true;
    this.flush();
  }

  /** A blob is settled (the file replicator's `onSettled`): on disk, or the master cannot deliver it. */
  onSettled(sha256: string, outcome: 'stored' | 'unavailable' = 'stored'): void {
    if (outcome === 'unavailable' && this.serialsByBlob.has(sha256)) {
      this.opts.log?.warn({ sha256 }, 'replication: the master cannot deliver this file (404 or damaged); confirming past it, still retrying');
    }
    const serials = this.serialsByBlob.get(sha256);
    if (!serials) return;
    this.serialsByBlob.delete(sha256);
    for (const serial of serials) {
      const waiting = this.waitingBySerial.get(serial);
      waiting?.delete(sha256);
      if (waiting?.size === 0) this.waitingBySerial.delete(serial);
    }
    this.flush();
  }

  /** A new stream to the master opened (it may have restarted and forgotten): confirm again. */
  resend(): void {
    this.sent = -1;
    this.flush();
  }

  /** Highest serial whose records and blobs are durable here (-1: none yet). */
  durableSerial(): number {
    if (!this.scanned) return -1;
    let lowest = Infinity;
    for (const serial of this.waitingBySerial.keys()) lowest = Math.min(lowest, serial);
    return lowest === Infinity ? this.opts.head() : Math.min(lowest - 1, this.opts.head());
  }

  /** Blobs the next confirmation waits for (status). */
  waitingBlobs(): number {
    return this.serialsByBlob.size;
  }

  private track(serial: number, sha256: string): void {
    let waiting = this.waitingBySerial.get(serial);
    if (!waiting) this.waitingBySerial.set(serial, (waiting = new Set()));
    waiting.add(sha256);
    let serials = this.serialsByBlob.get(sha256);
    if (!serials) this.serialsByBlob.set(sha256, (serials = new Set()));
    serials.add(serial);
  }

  /** Stops confirming (the generation closes). */
  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
  }

  private flush(): void {
    if (this.inFlight || this.closed) return;
    clearTimeout(this.retry);
    this.retry = undefined;
    const serial = this.durableSerial();
    if (serial <= this.sent || serial < 0) return;
    this.inFlight = true;
    this.opts.send(serial).then(
      () => {
        this.sent = Math.max(this.sent, serial);
        this.confirmations++;
        if (this.failing) this.opts.log?.info({ serial }, 'replication: confirmations reach the master again');
        this.failing = false;
        this.retryMs = 100;
      },
      (err: Error) => {
        if (!this.failing) this.opts.log?.warn({ serial, err: err.message }, 'replication: confirming the durable serial to the master failed; retrying');
        this.failing = true;
      },
    ).finally(() => {
      this.inFlight = false;
      if (!this.failing) return this.flush();
      if (this.closed) return;
      this.retry = setTimeout(() => this.flush(), this.retryMs);
      this.retry.unref();
      this.retryMs = Math.min(this.retryMs * 2, 5_000);
    });
  }
}
