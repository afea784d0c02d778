/**
 * One etcd lease kept alive by hand, so its write permit (`LeasePermit`, lease-fence.ts) is renewed
 * from each keepalive's SEND time on the monotonic clock — etcd3's automatic keepalive records only
 * answer times. The lease is lost, for good, when its permit runs out without an answered
 * keepalive (etcd unreachable: this node fences itself before etcd can expire the lease) or when
 * etcd says it expired.
 */
import type { Lease, Namespace } from 'etcd3';
import type { Logger } from 'pino';
import { LeasePermit, etcdTtlSeconds, keepaliveIntervalMs, type LeaseTiming } from './lease-fence.js';

/** A kept-alive lease (see module doc). */
export class LeaseHolder {
  readonly permit: LeasePermit;
  private timer: NodeJS.Timeout | undefined;
  private fenceTimer: NodeJS.Timeout | undefined;
  private lostReason: string | undefined;
  private readonly lostListeners = new Set<(reason: string) => void>();

  private constructor(
    private readonly lease: Lease,
    /** The lease ID etcd granted (decimal text). */
    readonly id: string,
    timing: LeaseTiming,
    sentAt: number,
    private readonly log: Logger,
  ) {
    this.permit = new LeasePermit(timing);
    this.renewed(sentAt);
    this.timer = setInterval(() => void this.keepalive(), keepaliveIntervalMs(timing));
    this.timer.unref();
  }

  /** Grants a lease of `timing.ttlMs`; rejects when etcd cannot be reached. */
  static async grant(ns: Namespace, timing: LeaseTiming, log: Logger): Promise<LeaseHolder> {
    const sentAt = performance.now();
    const lease = ns.lease(etcdTtlSeconds(timing.ttlMs), { autoKeepAlive: false });
    lease.on('lost', () => undefined); // reported through keepaliveOnce's rejection
    const id = await lease.grant();
    return new LeaseHolder(lease, id, timing, sentAt, log);
  }

  /** Whether writes are permitted now (monotonic clock). */
  holds(): boolean {
    return this.lostReason === undefined && this.permit.holds(performance.now());
  }

  /** Why the lease was lost (undefined while held). */
  get lost(): string | undefined {
    return this.lostReason;
  }

  /** Calls `listener` once when the lease is lost. */
  onLost(listener: (reason: string) => void): void {
    if (this.lostReason !== undefined) listener(this.lostReason);
    else this.lostListeners.add(listener);
  }

  /** Revokes the lease (its keys disappear at once); the permit ends first. */
  async revoke(): Promise<void> {
    this.markLost('revoked');
    await this.lease.revoke().catch(() => undefined);
  }

  /** Stops keepalives without revoking: the lease lapses after its TTL. */
  release(): void {
    this.markLost('released');
    this.lease.release();
  }

  private renewed(sentAt: number): void {
    if (this.lostReason !== undefined) return;
    this.permit.renewed(sentAt);
    clearTimeout(this.fenceTimer);
    const left = this.permit.remainingMs(performance.now());
    this.fenceTimer = setTimeout(() => {
      if (!this.permit.holds(performance.now())) this.markLost(`no keepalive answered within the permit (${Math.round(this.permit.timing.ttlMs)} ms lease): fenced before etcd can expire it`);
    }, Math.max(0, left) + 1);
    this.fenceTimer.unref();
  }

  private async keepalive(): Promise<void> {
    if (this.lostReason !== undefined) return;
    const sentAt = performance.now();
    try {
      await this.lease.keepaliveOnce({ deadline: Date.now() + this.permit.timing.ttlMs });
      this.renewed(sentAt);
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'EtcdLeaseInvalidError') this.markLost('etcd says the lease expired');
      else this.log.warn({ err: (err as Error).message }, 'etcd keepalive failed; the write permit runs out unless one succeeds');
    }
  }

  private markLost(reason: string): void {
    if (this.lostReason !== undefined) return;
    this.lostReason = reason;
    this.permit.end();
    clearInterval(this.timer);
    clearTimeout(this.fenceTimer);
    for (const l of this.lostListeners) l(reason);
    this.lostListeners.clear();
  }
}
