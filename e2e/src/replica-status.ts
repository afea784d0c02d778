// Reading a replica's `/+status` and waiting, with bounded polls, for what replication promises: a
// replica at the master's serial with no file queued. No fixed sleeps: every wait names what it
// waits for and says what it saw last when it gives up.
import { describeResponse, notYet, resultOf, waitFor, type WheelhouseProcess } from '@wheelhouse/testing';

export interface FailedFileStatus {
  readonly sha256: string;
  readonly error: string;
  readonly attempts: number;
  readonly retryAt: string;
}

/** The fields of a replica's `/+status` result the tests read. */
export interface ReplicaStatus {
  readonly role: string;
  readonly uuid: string;
  readonly 'master-uuid': string;
  readonly serial: number;
  readonly 'master-serial': number;
  readonly 'lag-serials': number;
  readonly 'initial-sync-done': boolean;
  readonly 'records-applied': number;
  readonly 'files-queued': number;
  readonly 'files-fetched': number;
  readonly 'files-failed': readonly FailedFileStatus[];
  readonly 'replication-error': string | null;
  readonly 'replication-fatal': string | null;
}

export async function replicaStatus(replica: WheelhouseProcess, timeoutMs = 10_000): Promise<ReplicaStatus> {
  const res = await replica.api.get('/+status', { timeoutMs });
  if (res.status !== 200) throw new Error(`GET ${replica.name} /+status: ${describeResponse(res)}`);
  return resultOf<ReplicaStatus>(res);
}

/** One line of the status fields that matter, for assertion messages. */
export function describeStatus(s: ReplicaStatus): string {
  return JSON.stringify({
    serial: s.serial,
    'master-serial': s['master-serial'],
    'lag-serials': s['lag-serials'],
    'files-queued': s['files-queued'],
    'files-failed': s['files-failed'].map((f) => `${f.sha256.slice(0, 12)}… ${f.error}`),
    'replication-error': s['replication-error'],
    'replication-fatal': s['replication-fatal'],
  });
}

/** Waits until the replica's applied serial is at least `serial` (metadata only). */
export function waitForSerial(replica: WheelhouseProcess, serial: number, timeoutMs = 30_000): Promise<ReplicaStatus> {
  return waitFor(
    async () => {
      const s = await replicaStatus(replica);
      return s.serial >= serial ? s : notYet(describeStatus(s));
    },
    { what: `${replica.name} to reach serial ${serial}`, timeoutMs, intervalMs: 50 },
  );
}

/**
 * Waits until every replica is at the master's current serial with no file queued, the master's
 * serial read again after the replicas matched it (so a write still arriving is not missed).
 */
export async function waitConverged(master: WheelhouseProcess, replicas: readonly WheelhouseProcess[], timeoutMs = 60_000): Promise<number> {
  return waitFor(
    async () => {
      const target = await master.api.statusSerial();
      const statuses = await Promise.all(replicas.map((r) => replicaStatus(r)));
      const done = statuses.every((s) => s.serial === target && s['files-queued'] === 0) && (await master.api.statusSerial()) === target;
      return done ? target : notYet(`master at ${target}; ${statuses.map((s, i) => `${replicas[i]?.name ?? '?'} ${describeStatus(s)}`).join('; ')}`);
    },
    { what: `${replicas.map((r) => r.name).join(', ')} to reach ${master.name}'s serial with no file queued`, timeoutMs, intervalMs: 100 },
  );
}
