/**
 * Who may campaign for leadership once the leader key is gone: the most caught-up live replica.
 * Pure decision over the candidates registered in etcd; the etcd transaction that follows
 * (`candidacy.ts`) makes it safe — it succeeds only if the leader key is still absent and no
 * candidate's entry changed since it was read, so two replicas never both win, and a replica that
 * published a higher serial in the meantime makes the others re-decide.
 */

/** A replica's entry under `<prefix>/candidates/<id>`, as read from etcd. */
export interface Candidate {
  /** The replica's id (`<datadir>/replica-id`). */
  id: string;
  /** Highest epoch among the records it applied. */
  epoch: number;
  /**
   * Its durable serial: the highest whose records and files are all on its disk (not its changelog
   * head — a record whose file has not arrived yet would be lost with the old master). With
   * `--sync-replicas N` every acknowledged write is at or below some live replica's durable serial.
   */
  serial: number;
  /** URL it will serve as master at. */
  url: string;
}

/** The campaign decision. */
export type CampaignDecision = { campaign: true } | { campaign: false; reason: string };

/** (epoch, serial) order: later epochs first, then higher serials; ties broken by the smaller id. */
export function moreCaughtUp(a: Candidate, b: Candidate): boolean {
  if (a.epoch !== b.epoch) return a.epoch > b.epoch;
  if (a.serial !== b.serial) return a.serial > b.serial;
  return a.id < b.id;
}

/** The candidate that should win among `candidates` (undefined when there are none). */
export function bestCandidate(candidates: readonly Candidate[]): Candidate | undefined {
  let best: Candidate | undefined;
  for (const c of candidates) if (!best || moreCaughtUp(c, best)) best = c;
  return best;
}

/**
 * Whether the replica `selfId` should campaign: only when it is registered and the most caught-up
 * of the live candidates (see module doc).
 */
export function campaignDecision(selfId: string, candidates: readonly Candidate[]): CampaignDecision {
  const self = candidates.find((c) => c.id === selfId);
  if (!self) return { campaign: false, reason: 'not registered as a candidate (lease not granted yet)' };
  const best = bestCandidate(candidates)!;
  if (best.id === selfId) return { campaign: true };
  return { campaign: false, reason: `replica ${best.id} is more caught up (epoch ${best.epoch}, serial ${best.serial}; this one epoch ${self.epoch}, serial ${self.serial})` };
}
