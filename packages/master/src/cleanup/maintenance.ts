/**
 * The master's maintenance, composed in one place for `createMasterApp`: the blob collector (its
 * followers are the replicas of the changelog feed), `POST /+gc` and `POST /+cleanup`, the
 * background schedules (GC every `gcIntervalMs`, retention every `cleanupIntervalMs` when set), the
 * GC metrics and the `storage` part of `/+status`.
 */
import { Router } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Changelog, FileStore } from '@wheelhouse/changelog';
import {
  BlobCollector,
  createGcRouter,
  diskUsageByIndex,
  registerGcMetrics,
  replicaTokenSigner,
  type Authenticator,
  type FollowerPosition,
  type IndexUsage,
} from '@wheelhouse/core';
import { createCleanupRouter } from './cleanup-routes.js';
import { applyCleanup, planCleanup } from './cleanup-plan.js';

/** Dependencies of {@link createMaintenance}. */
export interface MaintenanceDeps {
  changelog: Changelog;
  files: FileStore;
  auth: Authenticator;
  secret: Uint8Array;
  log: Logger;
  followers: () => Iterable<FollowerPosition>;
  registry: Registry;
  config: { gcIntervalMs?: number; gcGraceMs?: number; gcReplicaExpiryMs?: number; cleanupIntervalMs?: number };
}

/** The built maintenance of a master. */
export interface Maintenance {
  collector: BlobCollector;
  router: Router;
  /** `/+status` `storage`: store bytes/files (last GC scan), per index usage, last GC, totals */
  storageStatus(): Record<string, unknown>;
  /** Starts the schedules (after the server listens; the first GC runs at once). */
  start(): void;
  stop(): void;
}

/** Per-index usage is recomputed at most this often, ms (it walks every file entry). */
const USAGE_CACHE_MS = 5_000;

/** Builds the master's maintenance (see module doc). */
export function createMaintenance(deps: MaintenanceDeps): Maintenance {
  const { changelog, files, log, config } = deps;
  const collector = new BlobCollector({
    state: changelog,
    files,
    followers: deps.followers,
    log,
    ...(config.gcGraceMs !== undefined ? { graceMs: config.gcGraceMs } : {}),
    ...(config.gcReplicaExpiryMs !== undefined ? { followerExpiryMs: config.gcReplicaExpiryMs } : {}),
  });
  registerGcMetrics(deps.registry, () => collector);
  const replicaTokens = replicaTokenSigner(deps.secret);
  const router = Router();
  router.use(createGcRouter({ collector, replicaTokens, auth: deps.auth }));
  router.use(createCleanupRouter({ changelog, auth: deps.auth, replicaTokens, log }));

  let usage: { at: number; serial: number; value: Record<string, IndexUsage> } | undefined;
  let cleanupTimer: NodeJS.Timeout | undefined;
  const gcInterval = config.gcIntervalMs ?? 600_000;
  return {
    collector,
    router,
    storageStatus: () => {
      if (!usage || (usage.serial !== changelog.head && Date.now() - usage.at > USAGE_CACHE_MS)) {
        usage = { at: Date.now(), serial: changelog.head, value: diskUsageByIndex(changelog.entries()) };
      }
      const last = collector.last;
      return {
        'store-bytes': collector.storeUsage()?.bytes ?? null,
        'store-files': collector.storeUsage()?.files ?? null,
        'store-scanned-at-serial': last?.serial ?? null,
        indexes: usage.value,
        gc: { last: last ?? null, 'freed-files-total': collector.totals.files, 'freed-bytes-total': collector.totals.bytes, runs: collector.totals.runs, 'interval-ms': gcInterval },
      };
    },
    start: () => {
      if (gcInterval > 0) {
        collector.start(gcInterval);
        collector.run().catch((err: unknown) => log.error({ err }, 'garbage collection failed'));
      }
      if (config.cleanupIntervalMs) {
        cleanupTimer = setInterval(() => {
          applyCleanup(changelog, planCleanup(changelog), log).catch((err: unknown) => log.error({ err }, 'scheduled cleanup failed'));
        }, config.cleanupIntervalMs);
        cleanupTimer.unref();
      }
    },
    stop: () => {
      collector.stop();
      if (cleanupTimer) clearInterval(cleanupTimer);
    },
  };
}
