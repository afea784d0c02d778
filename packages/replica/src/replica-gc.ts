/**
 * A replica collects its own copies of blobs the same way the master does (`BlobCollector`): a
 * blob goes once the state it serves no longer names it — nor the state being built beside it while
 * following a new master (both share the file store) — and once every follower of its own feed
 * (backups, chained replicas) has applied past the serial. A replica without followers has no one
 * downstream to wait for. `POST /+gc` (a token of the secret file) runs it now; it also runs every
 * `intervalMs` in the background. Disk usage goes into `/+status` (`storage`) and the metrics.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { FileStore } from '@wheelhouse/changelog';
import { BlobCollector, createErrorHandler, createGcRouter, registerGcMetrics, replicaTokenSigner, type CollectedState } from '@wheelhouse/core';
import type { Generation } from './generation.js';

/** Dependencies of {@link createReplicaGc}. */
export interface ReplicaGcDeps {
  files: FileStore;
  /** the served generation, then the one being built (if any) */
  generations: () => Generation[];
  secret: Uint8Array;
  log: Logger;
  graceMs?: number;
  /** background runs every this many ms; 0 = on demand only (default 600,000) */
  intervalMs?: number;
}

/** A replica's garbage collection. */
export interface ReplicaGc {
  collector: BlobCollector;
  /** Answers `POST /+gc`; false for any other request. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  storageStatus(): Record<string, unknown>;
  registerMetrics(registry: Registry): void;
  start(): void;
  stop(): void;
}

/** Builds a replica's garbage collection (see module doc). */
export function createReplicaGc(deps: ReplicaGcDeps): ReplicaGc {
  const state: CollectedState = {
    get head() {
      return deps.generations()[0]!.changelog.head;
    },
    *entries() {
      for (const g of deps.generations()) yield* g.changelog.entries();
    },
    onCommit(listener) {
      const offs = deps.generations().map((g) => g.changelog.onCommit(listener));
      return () => offs.forEach((off) => off());
    },
  };
  const collector = new BlobCollector({
    state,
    files: deps.files,
    log: deps.log,
    followers: () => deps.generations().flatMap((g) => g.followers()),
    ...(deps.graceMs !== undefined ? { graceMs: deps.graceMs } : {}),
  });
  const app = express();
  app.use(createGcRouter({ collector, replicaTokens: replicaTokenSigner(deps.secret) }));
  app.use(createErrorHandler(deps.log));
  const intervalMs = deps.intervalMs ?? 600_000;
  return {
    collector,
    handle: (req, res) => {
      if (req.method !== 'POST' || !/^\/(\+|%2B)gc(\?|$)/i.test(req.url ?? '')) return false;
      app(req, res);
      return true;
    },
    storageStatus: () => ({
      'store-bytes': collector.storeUsage()?.bytes ?? null,
      'store-files': collector.storeUsage()?.files ?? null,
      gc: { last: collector.last ?? null, 'freed-files-total': collector.totals.files, 'freed-bytes-total': collector.totals.bytes, runs: collector.totals.runs, 'interval-ms': intervalMs },
    }),
    registerMetrics: (registry) => registerGcMetrics(registry, () => collector),
    start: () => {
      if (intervalMs > 0) collector.start(intervalMs);
    },
    stop: () => collector.stop(),
  };
}
