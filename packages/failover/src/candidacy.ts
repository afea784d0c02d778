/**
 * The replica's side of automatic failover. Each replica keeps an entry
 * `candidates/<id> = {epoch, serial, url}` under its own lease, updated as it applies records, and
 * follows the leader key (`LeaderWatch`): a new leader URL re-points its tailer (`onLeader`). When
 * the key is gone (the master's lease lapsed) it waits `settleMs` — every replica publishes its
 * final serial meanwhile — then, if it is the most caught-up live candidate (`campaignDecision`),
 * campaigns: ONE etcd transaction that writes the leader key with the next epoch under its lease,
 * only if the leader key is still absent, the epoch key unchanged and no candidate's entry changed
 * since it read them. Only the transaction decides; the winner gets `onElected(epoch, lease)` and
 * promotes itself, the others see the new leader through the watch.
 */
import type { Namespace } from 'etcd3';
import type { Logger } from 'pino';
import { campaignDecision, type Candidate } from './campaign-decision.js';
import { KEYS, parseCandidate, parseEpoch, type LeaderRecord } from './etcd-layout.js';
import { LeaderWatch, type LeaderView } from './leader-watch.js';
import type { LeaseTiming } from './lease-fence.js';
import { LeaseHolder } from './lease-holder.js';

/** A replica taking part in elections. */
export interface CandidateSelf {
  /** The replica id. */
  id: string;
  /** URL it serves at (and will serve at as master). */
  url: string;
  /** Its progress now: highest epoch applied and durable serial (records and files on disk). */
  progress: () => { epoch: number; serial: number };
}

/** Options of a candidacy. */
export interface CandidacyOptions {
  ns: Namespace;
  timing: LeaseTiming;
  self: CandidateSelf;
  log: Logger;
  /** A (new) leader serves as master (`serving`; see LeaderRecord). */
  onLeader: (leader: LeaderRecord) => void;
  /** This replica won: it must promote itself to `epoch`; `lease` holds the leader key. */
  onElected: (epoch: number, lease: LeaseHolder) => void;
  /** Wait after the key disappeared before deciding, ms (default 300). */
  settleMs?: number;
  /** Progress publishing and leader polling interval, ms (default 250). */
  tickMs?: number;
}

/** What `/+status` shows of a replica's candidacy. */
export type CandidacyStatus = {
  leader: LeaderRecord | null;
  'etcd-epoch': number;
  'lease-id': string | null;
  published: { epoch: number; serial: number } | null;
  /** Why this replica is not campaigning now (null while a leader exists). */
  waiting: string | null;
  error: string | null;
};

/** A candidacy (see module doc). */
export class Candidacy {
  private lease: LeaseHolder | undefined;
  private readonly watch: LeaderWatch;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private stopped = false;
  private published: string | undefined;
  private absentSince: number | undefined;
  private waiting: string | null = null;
  private error: string | null = null;
  private lastLeader: string | undefined;

  constructor(private readonly opts: CandidacyOptions) {
    this.watch = new LeaderWatch(opts.ns, (view) => this.seen(view), opts.log, opts.tickMs ?? 250);
  }

  start(): void {
    this.watch.start();
    this.timer = setInterval(() => void this.tick(), this.opts.tickMs ?? 250);
    this.timer.unref();
    void this.tick();
  }

  status(): CandidacyStatus {
    const view = this.watch.view;
    return {
      leader: view?.leader ?? null,
      'etcd-epoch': view?.epoch ?? 0,
      'lease-id': this.lease && !this.lease.lost ? this.lease.id : null,
      published: this.published ? (JSON.parse(this.published) as { epoch: number; serial: number }) : null,
      waiting: view?.leader ? null : this.waiting,
      error: this.error ?? this.watch.error ?? null,
    };
  }

  /** Stops; revokes the candidate lease (the entry disappears at once). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.watch.stop();
    await this.lease?.revoke();
  }

  private seen(view: LeaderView): void {
    if (view.leader) {
      this.absentSince = undefined;
      const text = JSON.stringify(view.leader);
      if (view.leader.serving && text !== this.lastLeader) {
        this.lastLeader = text;
        this.opts.onLeader(view.leader);
      }
    } else {
      this.absentSince ??= performance.now();
      void this.tick();
    }
  }

  private async tick(): Promise<void> {
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      await this.publish();
      if (this.watch.view && !this.watch.view.leader && this.absentSince !== undefined) {
        const waited = performance.now() - this.absentSince;
        if (waited >= (this.opts.settleMs ?? 300)) await this.campaign();
        else this.waiting = `the leader key is gone; deciding in ${Math.round((this.opts.settleMs ?? 300) - waited)} ms`;
      }
      this.error = null;
    } catch (err) {
      this.error = `etcd: ${(err as Error).message}`;
    } finally {
      this.busy = false;
    }
  }

  /** Keeps the candidate entry current under a live lease. */
  private async publish(): Promise<void> {
    if (!this.lease || this.lease.lost) {
      this.lease = await LeaseHolder.grant(this.opts.ns, this.opts.timing, this.opts.log);
      this.published = undefined;
    }
    const { epoch, serial } = this.opts.self.progress();
    const text = JSON.stringify({ epoch, serial });
    if (text === this.published) return;
    await this.opts.ns.put(KEYS.candidates + this.opts.self.id).value(JSON.stringify({ epoch, serial, url: this.opts.self.url })).lease(this.lease.id);
    this.published = text;
  }

  private async campaign(): Promise<void> {
    const { ns, self } = this.opts;
    const [list, epochKv] = await Promise.all([ns.getAll().prefix(KEYS.candidates).exec(), ns.get(KEYS.epoch).exec()]);
    const candidates: Candidate[] = [];
    for (const kv of list.kvs) {
      const c = parseCandidate(kv.key.toString().slice(KEYS.candidates.length), kv.value.toString());
      if (c) candidates.push(c);
    }
    const decision = campaignDecision(self.id, candidates);
    if (!decision.campaign) {
      this.waiting = decision.reason;
      return;
    }
    const epochRaw = epochKv.kvs[0];
    const epoch = Math.max(parseEpoch(epochRaw?.value.toString()), self.progress().epoch) + 1;
    const lease = this.lease!;
    let txn = ns.if(KEYS.leader, 'Create', '==', 0);
    txn = epochRaw ? txn.and(KEYS.epoch, 'Mod', '==', epochRaw.mod_revision) : txn.and(KEYS.epoch, 'Create', '==', 0);
    for (const kv of list.kvs) txn = txn.and(kv.key, 'Mod', '==', kv.mod_revision);
    const record: LeaderRecord = { epoch, url: self.url, node: self.id, serving: false };
    const res = await txn
      .then(ns.put(KEYS.leader).value(JSON.stringify(record)).lease(lease.id), ns.put(KEYS.epoch).value(String(epoch)), ns.delete().key(KEYS.candidates + self.id))
      .commit();
    if (!res.succeeded) {
      this.waiting = 'campaign transaction lost (the key or a candidate changed); deciding again';
      return;
    }
    this.opts.log.warn({ epoch, url: self.url, candidates: candidates.length }, 'failover: elected master by the etcd transaction');
    this.stopped = true;
    clearInterval(this.timer);
    await this.watch.stop();
    this.lease = undefined;
    this.opts.onElected(epoch, lease);
  }
}
