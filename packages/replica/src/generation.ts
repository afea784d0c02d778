/**
 * One generation of a replica's state: a changelog store (`<datadir>/<db dir>`), the tailer that
 * fills it from the master, the file replicator, the simple-page cache, and the request handler
 * (fast path + express app) that serves it. A replica normally has one generation for its whole
 * life; when it follows a master with a new UUID it builds the next one beside the current one
 * and swaps the server's handler to it in one step (`replica-app.ts`). File bytes are shared by
 * all generations (the file store is content-addressed).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import type { Logger } from 'pino';
import { Changelog, decodeRecord, type FileStore } from '@wheelhouse/changelog';
import {
  Authenticator,
  type UserDirectory,
  NotFoundError,
  SimplePages,
  TokenSigner,
  createErrorHandler,
  createFastPath,
  createReadGate,
  behindGate,
  ReadAccess,
  createReadApi,
  createWebRouter,
  handle,
  replicaTokenSigner,
  type NodeMetrics,
} from '@wheelhouse/core';
import { guard, setNodeHeaders, type NodeInfo, type ReplicaStatus } from '@wheelhouse/http';
import { ACK_TIMEOUT_MS, DurableAcks, FileReplicator, Tailer, createChangelogFeed, type MasterClient, type ReplicaInfo } from '@wheelhouse/replication';
import { createWriteForwarder } from './write-forwarder.js';
import { MirrorViaMaster } from './mirror-via-master.js';
import { replicaLagSerials, replicaReadiness, replicaStatus, type Readiness } from './replica-status.js';

/** What a generation shares with the replica around it. */
export interface GenerationContext {
  /** the LDAP directory (shared by generations: one cache, one health state) */
  directory?: UserDirectory;
  files: FileStore;
  master: MasterClient;
  secret: Uint8Array;
  log: Logger;
  replicaId: string;
  /** The master's URL now (it changes when the replica is re-pointed). */
  masterUrl: () => string;
  maxLagSerials: number;
  fileConcurrency?: number;
  pollMs?: number;
  writeWaitMs?: number;
  outsideUrl?: string;
  /** metrics of the node (the registry outlives generations) */
  metrics: () => NodeMetrics | undefined;
  /** status fields of the replica as a whole (e.g. a next generation being built) */
  extraStatus: () => Record<string, unknown>;
  /** set when the replica follows new masters */
  onMasterChange?: (uuid: string) => void;
  /** readiness ignores a superseded tailer while the old state is still served */
  following: boolean;
}

/** A generation (see module doc). */
export interface Generation {
  dbDir: string;
  changelog: Changelog;
  tailer: Tailer;
  replicator: FileReplicator;
  pages: SimplePages;
  node: NodeInfo;
  handle(req: IncomingMessage, res: ServerResponse): void;
  status(): ReplicaStatus;
  ready(): { ready: boolean; reason?: string };
  lagSerials(): number;
  /** Highest serial whose records and files are all durable here (`DurableAcks.durableSerial`; -1 none yet). */
  durableSerial(): number;
  /** Replicas (backups, chained replicas) tailing this generation's feed; they hold blob GC back. */
  followers(): ReplicaInfo[];
  start(): void;
  close(): Promise<void>;
}

/** Opens (creating when new) the store at `location` and builds its generation. */
export async function openGeneration(ctx: GenerationContext, location: string, dbDir: string): Promise<Generation> {
  // sync: a confirmation to the master (durable-acks.ts) promises the applied records survive a crash
  const changelog = await Changelog.open({ location, create: true, sync: true });
  const { files, master, log } = ctx;
  const replicator = new FileReplicator({ changelog, files, master, log, ...(ctx.fileConcurrency ? { concurrency: ctx.fileConcurrency } : {}) });
  const tailer = new Tailer({
    changelog,
    master,
    log,
    ...(ctx.pollMs ? { pollMs: ctx.pollMs } : {}),
    ...(ctx.onMasterChange ? { onMasterChange: ctx.onMasterChange } : {}),
    onConnected: () => acks.resend(),
    // start fetching a batch's files while the batch is fsynced (the confirmation waits for both)
    beforeApply: (payloads) => {
      for (const payload of payloads) {
        const record = decodeRecord(payload);
        if (record.serial > changelog.head) replicator.onRecord(record);
      }
    },
  });
  const acks = new DurableAcks({ head: () => changelog.head, send: (serial) => master.ackSerial(serial, ACK_TIMEOUT_MS), log });
  changelog.onCommit((record) => {
    acks.onRecord(record);
    replicator.onRecord(record);
  });
  replicator.onSettled((sha, outcome) => acks.onSettled(sha, outcome));
  const auth = new Authenticator(changelog, new TokenSigner(ctx.secret), undefined, undefined, ctx.directory);
  // replicas serve the same feed (token required): backups of a running replica, chained replicas
  const feed = createChangelogFeed({ changelog, files, replicaTokens: replicaTokenSigner(ctx.secret) });
  const pages = new SimplePages(changelog);
  const readAccess = new ReadAccess(changelog);
  const node: NodeInfo = { role: 'replica', uuid: changelog.uuid, masterUuid: () => tailer.state.masterUuid, serial: () => changelog.head, epoch: () => tailer.epoch() };
  const startedAt = Date.now();
  const lagSerials = (): number => replicaLagSerials(tailer.state, changelog.head);
  const status = (): ReplicaStatus => ({
    ...replicaStatus(
      { tail: tailer.state, files: replicator.stats(), uuid: changelog.uuid, serial: changelog.head, masterUrl: ctx.masterUrl(), replicaId: ctx.replicaId, startedAt, rssBytes: process.memoryUsage().rss },
      Date.now(),
    ),
    storage: { ...changelog.storageHealth(), 'file-store-failures': files.failures },
    // docs/operations.md, "Promotion and rejoin": a replica is never fenced; it refuses older masters
    epoch: tailer.epoch(),
    'master-epoch': tailer.state.masterEpoch ?? null,
    leader: ctx.masterUrl(),
    fenced: false,
    ...ctx.extraStatus(),
  });
  // a storage failure stops applying (the tailer retries from head + 1 once the store verified itself): not ready meanwhile
  const ready = (): Readiness => {
    const health = changelog.storageHealth();
    if (health.state !== 'ok') return { ready: false, reason: `not applying the changelog: ${health.message ?? 'storage failed'}` };
    return replicaReadiness(tailer.state, lagSerials(), { maxLagSerials: ctx.maxLagSerials, following: ctx.following });
  };

  const forward = createWriteForwarder({
    changelog,
    master,
    log,
    via: `wheelhouse-replica-${ctx.replicaId}`,
    ...(ctx.writeWaitMs ? { waitMs: ctx.writeWaitMs } : {}),
    ...(ctx.outsideUrl ? { outsideUrl: ctx.outsideUrl } : {}),
  });
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use((req, res, next) => {
    setNodeHeaders(res, node);
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') next();
    else handle(forward)(req, res, next);
  });
  app.use(feed.router);
  const metrics = ctx.metrics();
  const mirrors = new MirrorViaMaster(changelog, files, master, node, log);
  app.use(createWebRouter({ state: changelog, files, status, role: 'replica', readers: { access: readAccess, auth }, ...(ctx.outsideUrl ? { outsideUrl: ctx.outsideUrl } : {}) }));
  app.use(createReadApi({ state: changelog, pages, auth, status, ready, mirrors, ...(metrics ? { metrics } : {}), ...(ctx.outsideUrl ? { outsideUrl: ctx.outsideUrl } : {}) }));
  app.use((req, _res, next) => next(new NotFoundError(`not found: ${req.method} ${req.path}`)));
  app.use(createErrorHandler(log));

  const fast = createFastPath({
    state: changelog,
    pages,
    blobs: files,
    node,
    mirrors,
    onMissingBlob: (req, res, entry, sha256) => {
      const filename = (req.url ?? '').split('?')[0]!.split('/').pop() ?? sha256;
      return replicator.serveMissing(req, res, entry, sha256, decodeURIComponent(filename));
    },
  });
  // the raw read path answers outside express: its one boundary (a throw or rejection → an error answer, never a dead process)
  const read = guard(log, fast, { beforeError: (res) => setNodeHeaders(res, node) });
  // replicas serve reads from their own state: the same read gate as the master's (core's read-gate.ts)
  const gate = createReadGate({ access: readAccess, auth, replicaTokens: replicaTokenSigner(ctx.secret) });
  const serve = guard(
    log,
    behindGate(gate, (req, res) => {
      if (read(req, res) === false) app(req, res);
    }),
    { beforeError: (res) => setNodeHeaders(res, node) },
  );

  return {
    dbDir,
    changelog,
    tailer,
    replicator,
    pages,
    node,
    handle: (req, res) => {
      serve(req, res);
    },
    status,
    ready,
    lagSerials,
    durableSerial: () => acks.durableSerial(),
    followers: () => feed.replicas(),
    start: () => {
      tailer.start();
      replicator.scheduleMissing((sha) => acks.onMissing(sha)).then(
        () => acks.onScanned(),
        (err: Error) => log.error({ err: err.message }, 'the scan for missing files failed: this replica confirms no serial to its master'),
      );
    },
    close: async () => {
      acks.close();
      await tailer.stop();
      await replicator.close();
      pages.close();
      readAccess.close();
      await changelog.close();
    },
  };
}
