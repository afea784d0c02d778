/**
 * Acknowledged means replicated: the master's side of semi-synchronous replication (as
 * PostgreSQL's synchronous standbys, MySQL's semi-sync). A write is answered only once `required()`
 * replicas have confirmed its serial durable — record applied and fsynced, and every blob that
 * record (and those before it) names stored and fsynced — by `POST /+changelog-ack/{serial}`
 * (`changelog-feed.ts`; the replica end is `durable-acks.ts`).
 *
 * - Waiting is one `SerialWaiters` keyed by serial, released from the ack path (no polling): each
 *   ack recomputes the quorum serial (the N-th highest serial the replicas confirmed) and releases
 *   every write at or below it.
 * - `--sync-replicas N` (`replicas`): unset = 1 when replicas exist, else 0. A replica "exists"
 *   once it has acknowledged a serial to this master; the ids are recorded in the master's store
 *   meta (`sync-replicas-seen`, id → ms of the last ack, refreshed hourly) so they still count
 *   after a master restart, and stop counting `expiryMs` (default 24 h, the GC's replica expiry)
 *   after their last ack. Backup tools and old replicas never ack, so they never count.
 * - Fewer than N confirmations within `timeoutMs` (default 5,000), plus the time the write's new
 *   release file takes to reach a replica at {@link SYNC_TRANSFER_FLOOR_BYTES_PER_S} (at most
 *   {@link SYNC_TRANSFER_ALLOWANCE_MAX_MS} more; a replica
 *   confirms a record only once it fetched and verified the files it names, so a 200 MiB upload
 *   must not be refused for the transfer itself): `NotReplicatedError` (503); the
 *   record stays committed on the master and reaches the replicas when they come back. With
 *   `degrade`, the write is answered as without sync replication instead and counted; after a
 *   timeout (or with fewer than N replicas connected) the master stays asynchronous, answering at
 *   once, until the quorum has caught up with its head again.
 */
import type { Logger } from 'pino';
import { SerialWaiters } from '@wheelhouse/changelog';
import { NotReplicatedError } from '@wheelhouse/core';

/** Default wait for the replicas' confirmation, ms. */
export const DEFAULT_SYNC_TIMEOUT_MS = 5_000;
/**
 * The slowest transfer a replica is allowed for a write's new release file before its wait times
 * out: bytes per second (10 MiB/s: a 200 MiB upload waits up to `--sync-timeout` + 20 s).
 */
export const SYNC_TRANSFER_FLOOR_BYTES_PER_S = 10 * 1024 * 1024;
/**
 * The most that allowance adds, ms: 20 s, so that a write's wait stays inside the timeouts of the
 * hops in front of the master (a replica's forwarded upload, 30 s; the proxy's write, 60 s).
 */
export const SYNC_TRANSFER_ALLOWANCE_MAX_MS = 20_000;
/** Default time after its last ack a replica stops counting as existing, ms (24 h). */
export const DEFAULT_SYNC_REPLICA_EXPIRY_MS = 86_400_000;
/** Store meta name of the replicas that acknowledged (JSON: id → ms since epoch of the last ack). */
export const SYNC_REPLICAS_META = 'sync-replicas-seen';
const REFRESH_SEEN_MS = 3_600_000;

/** Where the ids of acknowledging replicas are kept (the master's `Changelog` meta). */
export interface SyncMeta {
  getMeta(name: string): string | undefined;
  setMeta(name: string, value: string): Promise<void>;
}

/** Options of {@link SyncReplication}. */
export interface SyncReplicationOptions {
  /** `--sync-replicas`: confirmations each write needs; undefined = 1 when replicas exist, else 0. */
  replicas?: number;
  /** `--sync-timeout`, ms (default {@link DEFAULT_SYNC_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** `--sync-degrade`: answer asynchronously instead of 503 when the replicas do not confirm. */
  degrade?: boolean;
  /** The master's head serial. */
  head: () => number;
  /** Replicas connected now (an open feed stream) that acknowledge. */
  connected?: () => number;
  /** Durable record of acknowledging replicas (omit: in memory only). */
  meta?: SyncMeta;
  /** ms after its last ack a replica stops counting as existing (default 24 h). */
  expiryMs?: number;
  log?: Logger;
  now?: () => number;
}

/** Figures for `/+status` (`sync-replication`) and metrics. */
export type SyncStats = {
  /** confirmations each write needs now (the setting, or its default) */
  required: number;
  /** the setting as given (null: default) */
  configured: number | null;
  'timeout-ms': number;
  degrade: boolean;
  /** answering asynchronously until the replicas catch up (`degrade` only) */
  degraded: boolean;
  /** replicas whose confirmations reached the head, or arrived within the timeout */
  acknowledging: number;
  /** highest serial confirmed by the required number of replicas (-1: none) */
  'quorum-serial': number;
  /** ms from the start of the wait to the quorum's confirmation, of the last write that waited (null: none yet) */
  'last-ack-lag-ms': number | null;
  /** writes answered 503 because the replicas did not confirm in time */
  timeouts: number;
  /** writes answered without the required confirmations (`degrade`) */
  'degraded-writes': number;
  /** per replica: the serial it last confirmed and when (ISO 8601) */
  replicas: Array<{ id: string; serial: number; at: string }>;
};

/** The waiters and the replicas' confirmations (see module doc). */
export class SyncReplication {
  private readonly acked = new Map<string, { serial: number; at: number }>();
  private readonly seen: Record<string, number>;
  private readonly waiters = new SerialWaiters();
  private readonly timeoutMs: number;
  private readonly expiryMs: number;
  private readonly now: () => number;
  private quorum = -1;
  private asynchronous = false;
  private lastLagMs: number | null = null;
  /** writes answered 503 (no confirmation in time) */
  timeouts = 0;
  /** writes answered without the required confirmations (degrade) */
  degradedWrites = 0;

  constructor(private readonly opts: SyncReplicationOptions) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS;
    this.expiryMs = opts.expiryMs ?? DEFAULT_SYNC_REPLICA_EXPIRY_MS;
    this.now = opts.now ?? Date.now;
    this.seen = parseSeen(opts.meta?.getMeta(SYNC_REPLICAS_META));
  }

  /** Confirmations a write needs now: the setting, else 1 when a replica exists (see module doc), else 0. */
  required(): number {
    if (this.opts.replicas !== undefined) return this.opts.replicas;
    if (this.acked.size > 0) return 1;
    const since = this.now() - this.expiryMs;
    return Object.values(this.seen).some((at) => at > since) ? 1 : 0;
  }

  /** Replica `id` confirmed every serial up to `serial` durable. Releases the writes that now have their quorum. */
  ack(id: string, serial: number): void {
    const at = this.now();
    const previous = this.acked.get(id);
    this.acked.set(id, { serial: Math.max(serial, previous?.serial ?? -1), at });
    if (!previous || at - (this.seen[id] ?? 0) > REFRESH_SEEN_MS) this.recordSeen(id, at);
    const n = this.required();
    if (n === 0) return;
    const quorum = this.quorumSerial(n);
    if (quorum > this.quorum) {
      this.quorum = quorum;
      this.waiters.notify(quorum);
    }
    if (this.asynchronous && quorum >= this.opts.head()) {
      this.asynchronous = false;
      this.opts.log?.warn({ serial: quorum }, 'sync replication: the replicas caught up; writes wait for their confirmation again');
    }
  }

  /**
   * Resolves once the required replicas confirmed `serial` (at once when none are required or it is
   * already confirmed). `newFileBytes`: the size of the release file the write stored (0: none), which
   * extends the wait by its transfer time at {@link SYNC_TRANSFER_FLOOR_BYTES_PER_S}, at most
   * {@link SYNC_TRANSFER_ALLOWANCE_MAX_MS}. Rejects with
   * NotReplicatedError (503) when they did not confirm within that time, unless `degrade` (then it
   * resolves and counts a degraded write).
   */
  async waitReplicated(serial: number, newFileBytes = 0): Promise<void> {
    const n = this.required();
    if (n === 0 || this.quorumSerial(n) >= serial) return;
    if (this.opts.degrade && (this.asynchronous || (this.opts.connected && this.opts.connected() < n))) {
      this.degradedWrites++;
      return;
    }
    const start = this.now();
    const transferMs = Math.min(SYNC_TRANSFER_ALLOWANCE_MAX_MS, Math.ceil((newFileBytes * 1000) / SYNC_TRANSFER_FLOOR_BYTES_PER_S));
    const waitMs = this.timeoutMs + transferMs;
    if (await this.waiters.wait(serial, waitMs)) {
      this.lastLagMs = this.now() - start;
      return;
    }
    this.timeouts++;
    if (this.opts.degrade) {
      this.degradedWrites++;
      if (!this.asynchronous) this.opts.log?.warn({ serial, required: n, waitMs }, 'sync replication: replicas did not confirm in time; answering asynchronously until they catch up (--sync-degrade)');
      this.asynchronous = true;
      return;
    }
    const have = this.confirmations(serial);
    const within = transferMs > 0 ? `${waitMs} ms (--sync-timeout ${this.timeoutMs} ms + ${transferMs} ms for its ${newFileBytes}-byte file)` : `${waitMs} ms`;
    throw new NotReplicatedError(
      `serial ${serial} is committed on the master, but ${have} of the ${n} required replica(s) confirmed it within ${within} (--sync-replicas ${n}); ` +
        'the write may still become visible on the replicas later; retrying the same request is safe once they are reachable (an identical upload is not stored twice and answers 200)',
      serial,
    );
  }

  /** Releases every waiting write with a timeout answer (the master is closing). */
  close(): void {
    this.waiters.cancelAll();
  }

  /** Figures for status and metrics. */
  stats(): SyncStats {
    const now = this.now();
    const head = this.opts.head();
    const required = this.required();
    return {
      required,
      configured: this.opts.replicas ?? null,
      'timeout-ms': this.timeoutMs,
      degrade: this.opts.degrade === true,
      degraded: this.asynchronous,
      acknowledging: [...this.acked.values()].filter((a) => a.serial >= head || now - a.at <= this.timeoutMs).length,
      'quorum-serial': required === 0 ? -1 : this.quorumSerial(required),
      'last-ack-lag-ms': this.lastLagMs,
      timeouts: this.timeouts,
      'degraded-writes': this.degradedWrites,
      replicas: [...this.acked].map(([id, a]) => ({ id, serial: a.serial, at: new Date(a.at).toISOString() })),
    };
  }

  /** The n-th highest confirmed serial (-1 with fewer than n replicas). */
  private quorumSerial(n: number): number {
    if (this.acked.size < n) return -1;
    const serials = [...this.acked.values()].map((a) => a.serial).sort((a, b) => b - a);
    return serials[n - 1]!;
  }

  private confirmations(serial: number): number {
    return [...this.acked.values()].filter((a) => a.serial >= serial).length;
  }

  private recordSeen(id: string, at: number): void {
    this.seen[id] = at;
    const since = at - this.expiryMs;
    for (const [k, v] of Object.entries(this.seen)) if (v <= since) delete this.seen[k];
    this.opts.meta?.setMeta(SYNC_REPLICAS_META, JSON.stringify(this.seen)).catch((err: Error) => {
      this.opts.log?.warn({ err: err.message }, 'sync replication: could not record the acknowledging replica');
    });
  }
}

function parseSeen(text: string | undefined): Record<string, number> {
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return {};
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, number] => typeof e[1] === 'number'));
  } catch {
    return {};
  }
}
