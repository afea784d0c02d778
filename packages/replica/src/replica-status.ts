/**
 * The replica's readiness and `/+status` decisions as pure functions over plain state (the tailer's
 * `TailState`, the file replicator's figures, the store's head), so they are unit-tested without a
 * generation. A replica is alive at once but ready only when in sync (STYLE 7, Unleash's
 * ready-check); the proxy routes reads on readiness.
 */
import type { FailedFile, TailState } from '@wheelhouse/replication';
import type { ReplicaStatus } from '@wheelhouse/http';

/** What readiness needs of the tailer. */
export type TailReadiness = Pick<TailState, 'fatal' | 'superseded' | 'initialSyncDone'>;

/** Bounds of readiness. */
export interface ReadinessPolicy {
  /** Most serials behind the master while still ready. */
  maxLagSerials: number;
  /** The replica follows new masters (`--follow-new-master`). */
  following: boolean;
}

/** Readiness answer of `/+ready`: 200 when ready, else 503 with the reason. */
export interface Readiness {
  ready: boolean;
  reason?: string;
}

/**
 * Serials behind the master: `masterSerial − head`, never below 0; 0 once the tailer was superseded
 * (a new master is followed and this state is kept only until the next one is complete).
 */
export function replicaLagSerials(tail: Pick<TailState, 'masterSerial' | 'superseded'>, head: number): number {
  return tail.superseded ? 0 : Math.max(0, tail.masterSerial - head);
}

/**
 * Ready when replication is not stopped for good, the initial sync is done, and the lag is within
 * `maxLagSerials`. A superseded tailer stays ready when following (the old state is served until
 * the new master's state is complete).
 */
export function replicaReadiness(tail: TailReadiness, lagSerials: number, policy: ReadinessPolicy): Readiness {
  if (tail.fatal) return { ready: false, reason: tail.fatal };
  if (tail.superseded && policy.following) return { ready: true };
  if (!tail.initialSyncDone) return { ready: false, reason: 'initial sync with the master not done yet' };
  if (lagSerials > policy.maxLagSerials) return { ready: false, reason: `${lagSerials} serials behind the master (bound ${policy.maxLagSerials})` };
  return { ready: true };
}

/**
 * Seconds since the replica was last in sync, rounded: 0 while in sync (no lag), null when it never
 * was. `inSyncAt` and `now` in ms since epoch.
 */
export function replicaLagSeconds(inSyncAt: number, lagSerials: number, now: number): number | null {
  if (!inSyncAt) return null;
  return lagSerials === 0 ? 0 : Math.round((now - inSyncAt) / 1000);
}

/** Plain state `replicaStatus` reports. */
export interface ReplicaStatusInput {
  tail: TailState;
  files: { queued: number; fetched: number; failed: FailedFile[] };
  /** The store's UUID and head serial. */
  uuid: string;
  serial: number;
  masterUrl: string;
  replicaId: string;
  /** ms since epoch the generation started. */
  startedAt: number;
  /** Resident set size of the process, bytes. */
  rssBytes: number;
}

/**
 * The replica's `/+status` fields (`role`, `uuid`, `serial`, `master-uuid`, `master-url`,
 * `master-serial` as devpi names them; the replication and file figures beside them). Times are
 * ISO 8601, absent ones null; `now` in ms since epoch.
 */
export function replicaStatus(input: ReplicaStatusInput, now: number): ReplicaStatus {
  const { tail: t, files: f } = input;
  const lag = replicaLagSerials(t, input.serial);
  return {
    role: 'REPLICA',
    uuid: input.uuid,
    'master-uuid': t.masterUuid,
    'master-url': input.masterUrl,
    'replica-id': input.replicaId,
    serial: input.serial,
    'master-serial': t.masterSerial,
    'lag-serials': lag,
    'lag-seconds': replicaLagSeconds(t.inSyncAt, lag, now),
    'last-master-contact': t.lastContact ? new Date(t.lastContact).toISOString() : null,
    'in-sync-at': t.inSyncAt ? new Date(t.inSyncAt).toISOString() : null,
    'initial-sync-done': t.initialSyncDone,
    'replication-error': t.error ?? null,
    'replication-fatal': t.fatal ?? null,
    'superseded-by-master': t.superseded ?? null,
    'records-applied': t.applied,
    'files-queued': f.queued,
    'files-fetched': f.fetched,
    'files-failed': f.failed.map((x) => ({ ...x, retryAt: new Date(x.retryAt).toISOString() })),
    'generation-started-at': new Date(input.startedAt).toISOString(),
    'memory-rss-bytes': input.rssBytes,
  };
}
