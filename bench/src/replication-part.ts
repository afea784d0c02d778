/**
 * The replication benchmark (issue 3): a replica of the populated master (its initial sync timed),
 * upload-to-visible lag, the master's read rows against the replica, and the catch-up of a fresh
 * replica on a separate master holding CATCH_UP_SERIALS serials.
 */
import { join } from 'node:path';
import type { BenchCluster, Say } from './bench-cluster.js';
import { measureCatchUp } from './catch-up.js';
import type { ReplicationResults, ReplicaReadRow } from './cluster-tables.js';
import { runLoad, type LoadSettings } from './load-run.js';
import { benchReadTargets } from './master-part.js';
import { measureUploadLag } from './replication-lag.js';
import { devpiAuth } from './upload-runner.js';
import { USER } from './bench-cluster.js';

export const LAG_UPLOADS = 250;
const LAG_PROJECTS = 20;
export const CATCH_UP_SERIALS = 50_000;

export type MutableReplicationResults = { -readonly [K in keyof ReplicationResults]: ReplicationResults[K] } & {
  setup: string[];
  reads: ReplicaReadRow[];
  notes: string[];
};

export function emptyReplicationResults(): MutableReplicationResults {
  return { setup: [], lag: undefined, lagUploads: LAG_UPLOADS, catchUp: undefined, reads: [], readsNote: '', notes: [] };
}

/**
 * Each replica read row is measured right after the same URL on the master (not taken from the
 * master table, which ran minutes earlier: other work on the machine moves the figures more than
 * the difference we look for).
 */
export async function runReplicationPart(
  cluster: BenchCluster,
  load: LoadSettings,
  say: Say,
  r: MutableReplicationResults,
): Promise<void> {
  const { master, ix } = await cluster.populatedMaster();
  const replica = await cluster.syncedReplica();
  r.setup.push(
    `one \`wheelhouse replica\` of the benchmark master (fresh temp data dir, --log-level warn): from spawn to /+ready (serial ${String(cluster.replicaSyncSerial)} applied) ${cluster.replicaReadySeconds?.toFixed(2) ?? '—'} s, to every release file fetched too (files queue empty) ${cluster.replicaSyncSeconds?.toFixed(2) ?? '—'} s`,
  );

  say(`upload-to-visible lag: ${LAG_UPLOADS} sequential uploads to the master, polling the replica`);
  r.lag = await measureUploadLag({
    masterUrl: master.url,
    replicaUrl: replica.url,
    indexPath: ix.indexPath,
    authHeaders: devpiAuth(USER, ix.token),
    uploads: LAG_UPLOADS,
    projects: LAG_PROJECTS,
    perFileTimeoutMs: 5_000,
  });
  for (const [what, n] of r.lag.errors) r.notes.push(`upload-to-visible lag: ${n}× ${what}`);

  const { targets, notes } = await benchReadTargets(replica.url, ix.indexPath);
  r.notes.push(...notes.map((n) => `replica: ${n}`));
  for (const target of targets) {
    say(`load (master, for comparison): ${target.label}`);
    const masterOutcome = await runLoad({ ...target, url: target.url.replace(replica.url, master.url) }, load, master);
    say(`load (replica): ${target.label}, ${load.connections} connections × ${load.durationSeconds} s`);
    const outcome = await runLoad(target, load, replica);
    r.reads.push({ replica: outcome, master: masterOutcome });
    if (outcome.note) r.notes.push(`replica ${target.label}: ${outcome.note}`);
  }
  r.readsNote =
    `Same autocannon settings as the master table (${load.connections} connections, ${load.durationSeconds} s per endpoint, child process, sharing the cores). ` +
    'Each master figure was measured right before the replica row on the same URL path and the same data (the replica holds every record and file of the master; the project list also has the lag benchmark’s projects), so both see about the same machine load; the idle node keeps running meanwhile. ' +
    'Replica CPU and RSS are from /proc.';

  say(`catch-up: ${CATCH_UP_SERIALS} serials`);
  r.catchUp = await measureCatchUp(join(cluster.root, 'catch-up'), CATCH_UP_SERIALS, 180_000, say);
  r.notes.push(...r.catchUp.notes);
}
