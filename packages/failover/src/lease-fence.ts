/**
 * Fencing by lease: the arithmetic that makes a master stop accepting writes BEFORE etcd can let
 * its leadership lease lapse (and a replica be elected in its place).
 *
 * etcd starts (or restarts) a lease's TTL when its leader *processes* a grant or keepalive, which is
 * after this node *sent* it. So measured on this node's monotonic clock (`performance.now()`), the
 * lease cannot expire before `sentAt + ttl`, where `sentAt` is the send time of the last grant or
 * keepalive that etcd answered successfully. Clocks tick at slightly different rates (crystal drift,
 * NTP slewing, a VM paused and resumed): a TTL that etcd measures as `ttl` may last only
 * `ttl × (1 − driftRate)` here. Writes admitted just before the deadline still need a moment to
 * commit, so a fixed `marginMs` more is taken off:
 *
 *     deadline = sentAt + ttlMs × (1 − driftRate) − marginMs
 *
 * With the defaults (ttl 5,000 ms, drift 2 %, margin 500 ms) a master holds its write permit for
 * 4,400 ms after the send of its last answered keepalive; keepalives go out every ttl / 3 (1,667 ms),
 * so two may be lost in a row before the permit ends. Source: the lease/fencing argument of
 * Gray & Cheriton, "Leases" (SOSP 1989) and Kleppmann's fencing-token discussion.
 */

/** Timing of a leadership lease. */
export interface LeaseTiming {
  /** The lease's time to live, ms (etcd counts whole seconds: it is granted `ceil(ttlMs / 1000)` s). */
  ttlMs: number;
  /** Largest relative clock-rate difference between this node and etcd (0.02 = 2 %). */
  driftRate: number;
  /** Time kept back for writes in flight at the deadline to commit, ms. */
  marginMs: number;
}

/** Default drift rate (2 %: far above real crystal drift, covers NTP slewing and short VM pauses). */
export const DEFAULT_DRIFT_RATE = 0.02;
/** Default margin for writes in flight, ms. */
export const DEFAULT_MARGIN_MS = 500;
/** Default lease TTL, ms: failover within about 2 × TTL. */
export const DEFAULT_LEASE_TTL_MS = 5_000;

/** The default timing for a TTL (ms). */
export function leaseTiming(ttlMs = DEFAULT_LEASE_TTL_MS): LeaseTiming {
  return { ttlMs, driftRate: DEFAULT_DRIFT_RATE, marginMs: DEFAULT_MARGIN_MS };
}

/** The whole seconds etcd grants for `ttlMs` (at least 1). */
export function etcdTtlSeconds(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs / 1000));
}

/**
 * The local monotonic time (ms) up to which a lease whose last answered grant/keepalive was SENT at
 * `sentAt` is certainly still held (see module doc). Throws RangeError for a timing that leaves no
 * permit at all (margin and drift eat the whole TTL).
 */
export function fenceDeadline(sentAt: number, timing: LeaseTiming): number {
  const hold = timing.ttlMs * (1 - timing.driftRate) - timing.marginMs;
  if (!(hold > 0)) throw new RangeError(`a lease of ${timing.ttlMs} ms leaves no write permit after drift ${timing.driftRate} and margin ${timing.marginMs} ms`);
  return sentAt + hold;
}

/** How often keepalives are sent, ms: a third of the TTL, so two may be lost before the permit ends. */
export function keepaliveIntervalMs(timing: LeaseTiming): number {
  return Math.max(100, Math.floor(timing.ttlMs / 3));
}

/**
 * The write permit of a lease holder: renewed by each answered keepalive (from its SEND time),
 * ended by its deadline. Pure state; the caller feeds it times from one monotonic clock.
 */
export class LeasePermit {
  private deadline = -Infinity;
  constructor(readonly timing: LeaseTiming) {}

  /** A grant or keepalive sent at `sentAt` was answered: the lease is alive; the permit runs to its deadline. */
  renewed(sentAt: number): void {
    this.deadline = Math.max(this.deadline, fenceDeadline(sentAt, this.timing));
  }

  /** Ends the permit now (lease lost or revoked). */
  end(): void {
    this.deadline = -Infinity;
  }

  /** Whether writes are permitted at `now`. */
  holds(now: number): boolean {
    return now < this.deadline;
  }

  /** ms of permit left at `now` (≤ 0: fenced). */
  remainingMs(now: number): number {
    return this.deadline - now;
  }
}
