/**
 * A master's fencing state (docs/operations.md, "Promotion and rejoin"). The master is in the
 * epoch its changelog records; when any peer — a replica on the feed, the proxy on a forwarded
 * request or health check, a replica it probes at start-up — says it has seen a higher epoch, the
 * master's term is over: it fences itself, durably (local metadata `fence`, kept across restarts),
 * and from then on every local write of its changelog is refused with FencedError (503,
 * `fenced: epoch N superseded by M`). Only `rejoin` ends it (the store is replaced or re-pointed).
 */
import type { Changelog } from '@wheelhouse/changelog';
import { FencedError, ServiceUnavailableError } from '@wheelhouse/core';
import type { Logger } from 'pino';
import { trackEpoch, type EpochTracker } from '@wheelhouse/replication';

/** Local metadata name of the fence (JSON {@link FenceState}). */
export const FENCE_META = 'fence';

/** Why a master is fenced. */
export interface FenceState {
  /** The master's own epoch when it was fenced. */
  epoch: number;
  /** The higher epoch that superseded it. */
  supersededBy: number;
  /** Who told (e.g. `replica http://…`, `request from 127.0.0.1`). */
  source: string;
  /** ISO 8601. */
  at: string;
}

/** The fencing state of one master (see module doc). */
export class Fence {
  private state: FenceState | undefined;
  private readonly tracker: EpochTracker;
  /** Set while the start-up probe of known peers runs: writes wait (503) until it has answered. */
  private probing: string | undefined;

  constructor(private readonly changelog: Changelog, private readonly log: Logger) {
    this.tracker = trackEpoch(changelog);
    const stored = changelog.getMeta(FENCE_META);
    if (stored) {
      try {
        const parsed = JSON.parse(stored) as FenceState;
        // a fence is over once the store itself reached that epoch (it followed the new master)
        if (parsed.supersededBy > this.tracker.epoch()) this.state = parsed;
      } catch {
        this.state = { epoch: this.tracker.epoch(), supersededBy: this.tracker.epoch() + 1, source: 'unreadable fence metadata', at: new Date().toISOString() };
      }
    }
    changelog.guardWrites(() => this.assertWritable());
  }

  /** The epoch this master's changelog is in. */
  epoch(): number {
    return this.tracker.epoch();
  }

  /** The epoch history of the changelog (oldest first). */
  history(): ReturnType<EpochTracker['history']> {
    return this.tracker.history();
  }

  /** Why the master is fenced, or undefined while it may write. */
  fenced(): FenceState | undefined {
    return this.state;
  }

  /** `fenced: epoch N superseded by M (source)`. */
  message(): string {
    const s = this.state;
    return s ? `fenced: epoch ${s.epoch} superseded by ${s.supersededBy} (learned from ${s.source} at ${s.at}); this node refuses writes until 'wheelhouse rejoin' makes it a replica of the new master` : 'not fenced';
  }

  /**
   * Takes an epoch a peer claims (undefined: no claim). Higher than this master's: fences it
   * (durably) and returns true. Never throws.
   */
  observe(epoch: number | undefined, source: string): boolean {
    if (epoch === undefined || epoch <= this.tracker.epoch()) return false;
    if (this.state && this.state.supersededBy >= epoch) return true;
    this.state = { epoch: this.tracker.epoch(), supersededBy: epoch, source, at: new Date().toISOString() };
    this.log.error({ fence: this.state }, 'fenced: a higher epoch exists; refusing every write from now on');
    void this.changelog.setMeta(FENCE_META, JSON.stringify(this.state)).catch((err: Error) => this.log.error({ err: err.message }, 'fence: could not store the fence (stays fenced in memory)'));
    return true;
  }

  /** Marks the start-up probe as running (`reason`) or done (undefined). */
  setProbing(reason: string | undefined): void {
    this.probing = reason;
  }

  /** Throws FencedError while fenced, ServiceUnavailableError while the start-up probe runs. */
  assertWritable(): void {
    if (this.state) throw new FencedError(this.message());
    if (this.probing) throw new ServiceUnavailableError(this.probing, 1);
  }

  /** Stops following the changelog. */
  stop(): void {
    this.tracker.stop();
    this.changelog.guardWrites(undefined);
  }
}
