/**
 * The master's side of automatic failover: it holds the leader key `{epoch, url, node}` attached
 * to its own lease, and accepts writes only while its lease permit holds (`holds()`; fencing by
 * lease, lease-fence.ts). Taking the key is an etcd transaction — it succeeds only when the key
 * is absent (or still carries this very node from before a restart) and the epoch key is not
 * above the node's own epoch — so no node decides alone that it is master. When the permit ends
 * (etcd unreachable, the lease expired) the master is fenced and tries to take the key again; once
 * etcd's epoch is above its own, a newer master was elected and it stays fenced for good (until
 * `wheelhouse rejoin` makes it a replica).
 */
import type { Namespace } from 'etcd3';
import type { Logger } from 'pino';
import { KEYS, parseEpoch, parseLeader, type LeaderRecord } from './etcd-layout.js';
import { keepaliveIntervalMs, type LeaseTiming } from './lease-fence.js';
import { LeaseHolder } from './lease-holder.js';

/** This node as a master. */
export interface MasterIdentity {
  /** Its identity in the leader key (a master's store UUID, or the id of the promoted replica). */
  node: string;
  /** URL it serves at. */
  url: string;
  /** Its current epoch (from its changelog). */
  epoch: () => number;
}

/** What `/+status` shows of a node's leadership. */
export type LeadershipStatus = {
  /** `leader`: holds the key and its permit; `fenced`: refuses writes (see `reason`). */
  state: 'leader' | 'fenced';
  reason: string | null;
  /** The leader key as last read or written. */
  leader: LeaderRecord | null;
  /** The epoch key as last read. */
  'etcd-epoch': number;
  'lease-id': string | null;
  'lease-ttl-ms': number;
  /** ms of write permit left (null when none is held). */
  'permit-remaining-ms': number | null;
};

/** Result of one attempt to take the leader key. */
export type AcquireResult = { taken: true } | { taken: false; reason: string; superseded: boolean; etcdEpoch: number };

/**
 * Tries once to take the leader key for `self` with `lease` (see module doc). Pure etcd logic:
 * one read, one transaction.
 */
export async function tryAcquire(ns: Namespace, self: MasterIdentity, lease: LeaseHolder): Promise<AcquireResult> {
  const [leaderKv, epochKv] = await Promise.all([ns.get(KEYS.leader).exec(), ns.get(KEYS.epoch).exec()]);
  const leaderRaw = leaderKv.kvs[0];
  const epochRaw = epochKv.kvs[0];
  const etcdEpoch = parseEpoch(epochRaw?.value.toString());
  const epoch = self.epoch();
  if (etcdEpoch > epoch) return { taken: false, superseded: true, etcdEpoch, reason: `a newer master was elected (etcd epoch ${etcdEpoch}, this node's ${epoch}); rejoin it as a replica` };
  const leader = parseLeader(leaderRaw?.value.toString());
  if (leaderRaw && leader?.node !== self.node) {
    return { taken: false, superseded: false, etcdEpoch, reason: `the leader key is held by ${leader ? `${leader.node} at ${leader.url} (epoch ${leader.epoch})` : 'a value that is not a Wheelhouse leader'}` };
  }
  const record: LeaderRecord = { epoch, url: self.url, node: self.node, serving: true };
  let txn = leaderRaw ? ns.if(KEYS.leader, 'Mod', '==', leaderRaw.mod_revision) : ns.if(KEYS.leader, 'Create', '==', 0);
  txn = epochRaw ? txn.and(KEYS.epoch, 'Mod', '==', epochRaw.mod_revision) : txn.and(KEYS.epoch, 'Create', '==', 0);
  const res = await txn.then(ns.put(KEYS.leader).value(JSON.stringify(record)).lease(lease.id), ns.put(KEYS.epoch).value(String(epoch))).commit();
  return res.succeeded ? { taken: true } : { taken: false, superseded: false, etcdEpoch, reason: 'the leader key or epoch changed while taking it' };
}

/** A master's leadership (see module doc). */
export class Leadership {
  private lease: LeaseHolder | undefined;
  private reason: string | null = 'not yet elected';
  private superseded = false;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private stopped = false;
  private leader: LeaderRecord | null = null;
  private etcdEpoch = 0;

  constructor(
    private readonly ns: Namespace,
    private readonly timing: LeaseTiming,
    private readonly self: MasterIdentity,
    private readonly log: Logger,
    /** Called once when etcd's epoch is found above this node's (a newer master was elected). */
    private readonly onSuperseded: (etcdEpoch: number) => void = () => undefined,
  ) {}

  /**
   * Starts holding (or trying to take) the key. `held`: a lease under which the key was already
   * written for this node (a replica that won the campaign hands its lease over).
   */
  start(held?: LeaseHolder): void {
    if (held) {
      this.adopt(held, 'elected by campaign');
      void this.announceServing(held);
    }
    this.timer = setInterval(() => void this.attempt(), keepaliveIntervalMs(this.timing));
    this.timer.unref();
    if (!held) void this.attempt();
  }

  /** Whether this node may accept writes now. */
  holds(): boolean {
    return !this.stopped && !!this.lease && this.lease.holds();
  }

  /** Why writes are refused (undefined while they are accepted). */
  refusal(): string | undefined {
    return this.holds() ? undefined : (this.reason ?? 'no leadership lease');
  }

  status(): LeadershipStatus {
    const now = performance.now();
    return {
      state: this.holds() ? 'leader' : 'fenced',
      reason: this.holds() ? null : this.reason,
      leader: this.leader,
      'etcd-epoch': this.etcdEpoch,
      'lease-id': this.lease && !this.lease.lost ? this.lease.id : null,
      'lease-ttl-ms': this.timing.ttlMs,
      'permit-remaining-ms': this.lease && this.holds() ? Math.round(this.lease.permit.remainingMs(now)) : null,
    };
  }

  /** Stops; revokes the lease so a successor need not wait for it to lapse (a clean shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.lease?.revoke();
  }

  /**
   * Stops keepalives and attempts WITHOUT revoking: the key lapses after the lease's TTL, as after
   * a crash (tests, drills).
   */
  abandon(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.lease?.release();
  }

  /** After a campaign: rewrites the leader key (still under `lease`, still this node's) as serving. */
  private async announceServing(lease: LeaseHolder): Promise<void> {
    const record: LeaderRecord = { epoch: this.self.epoch(), url: this.self.url, node: this.self.node, serving: true };
    for (let i = 0; i < 20 && !this.stopped && lease.holds(); i++) {
      try {
        const current = await this.ns.get(KEYS.leader).exec();
        const kv = current.kvs[0];
        if (!kv || parseLeader(kv.value.toString())?.node !== this.self.node) return;
        const res = await this.ns.if(KEYS.leader, 'Mod', '==', kv.mod_revision).then(this.ns.put(KEYS.leader).value(JSON.stringify(record)).lease(lease.id)).commit();
        if (res.succeeded) {
          this.leader = record;
          return;
        }
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'leadership: could not announce serving yet; retrying');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private adopt(lease: LeaseHolder, how: string): void {
    this.lease = lease;
    this.reason = null;
    this.leader = { epoch: this.self.epoch(), url: this.self.url, node: this.self.node, serving: true };
    this.etcdEpoch = Math.max(this.etcdEpoch, this.self.epoch());
    this.log.warn({ epoch: this.self.epoch(), url: this.self.url, lease: lease.id }, `leadership: this node is the master (${how})`);
    lease.onLost((why) => {
      if (this.stopped) return;
      this.reason = `leadership lease lost: ${why}`;
      this.log.error({ reason: why }, 'leadership: lease lost; writes refused (fenced) until the key is taken again');
    });
  }

  private async attempt(): Promise<void> {
    if (this.busy || this.stopped || this.superseded || this.holds()) return;
    this.busy = true;
    let lease: LeaseHolder | undefined;
    try {
      lease = await LeaseHolder.grant(this.ns, this.timing, this.log);
      const result = await tryAcquire(this.ns, this.self, lease);
      if (this.stopped) return void (await lease.revoke());
      if (result.taken) {
        this.adopt(lease, 'took the leader key');
        lease = undefined;
        return;
      }
      this.reason = result.reason;
      if (result.superseded) {
        this.superseded = true;
        this.onSuperseded(result.etcdEpoch);
        this.log.error({ reason: result.reason }, 'leadership: superseded; this node stays fenced');
      }
      const view = await this.ns.get(KEYS.leader).string();
      this.leader = parseLeader(view) ?? null;
      this.etcdEpoch = parseEpoch(await this.ns.get(KEYS.epoch).string());
    } catch (err) {
      this.reason = `etcd unreachable: ${(err as Error).message}`;
    } finally {
      if (lease) await lease.revoke();
      this.busy = false;
    }
  }
}
