/**
 * Acknowledged means replicated, on the write routes: every write answer (`sendWrite`, the legacy
 * upload) first awaits the master's replication gate for the serial it committed — or, when it
 * committed nothing (an identical re-upload, a no-op change), for the head its answer describes,
 * so a retry never acknowledges what the replicas do not hold yet. The gate is
 * `SyncReplication.waitReplicated` (`@wheelhouse/replication`); it rejects with
 * NotReplicatedError (503) when too few replicas confirmed in time. Routes reach it through
 * `res.locals`, set once by the write API (`useReplicationGate`).
 */
import type { RequestHandler, Response } from 'express';

/**
 * Waits until `serial` (null: the current head) is replicated as the sync settings ask; rejects with
 * NotReplicatedError. `newFileBytes`: the size of the release file the write stored (bytes; the
 * replicas must fetch it before they confirm, so the wait grows with it).
 */
export type ReplicationGate = (serial: number | null, newFileBytes?: number) => Promise<void>;

const GATE = 'wheelhouseReplicationGate';

/** Middleware: makes `gate` the replication gate of every write answered below it. */
export function useReplicationGate(gate: ReplicationGate | undefined): RequestHandler {
  return (_req, res, next) => {
    if (gate) res.locals[GATE] = gate;
    next();
  };
}

/** Awaits the request's replication gate for `serial` and a new file of `newFileBytes` (nothing to wait for without a gate). */
export async function awaitReplicated(res: Response, serial: number | null, newFileBytes = 0): Promise<void> {
  const gate = (res.locals as Record<string, unknown> | undefined)?.[GATE] as ReplicationGate | undefined;
  if (gate) await gate(serial, newFileBytes);
}
