/**
 * The master's composition root: opens the changelog and file store of a data directory, builds
 * authentication, the simple-page cache, the fast read path, the express app (read API, write API,
 * 404, one error handler) and the HTTP server that fronts them — in one function, with no
 * module-level state, so tests build exactly what production runs.
 */
import type { Server } from 'node:http';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import express from 'express';
import { pino, type Logger } from 'pino';
import { Changelog, FileStore, lockDataDir } from '@wheelhouse/changelog';
import {
  Authenticator,
  ldapUserDirectory,
  type LdapConfig,
  NotFoundError,
  SimplePages,
  TokenSigner,
  createErrorHandler,
  replicaTokenSigner,
  createFastPath,
  createReadGate,
  behindGate,
  ReadAccess,
  createReadApi,
  createWebRouter,
  createNodeMetrics,
  logRequest,
  BlobCollector,
  ServiceUnavailableError,
} from '@wheelhouse/core';
import { createNodeServer, guard, readTlsPair, setNodeHeaders, type MasterStatus, type NodeInfo, type NodeTlsOptions, type TlsReload } from '@wheelhouse/http';
import { SyncReplication, createChangelogFeed, parseEpoch } from '@wheelhouse/replication';
import { Fence } from './roles/fence.js';
import { probePeers, rememberPeer } from './roles/peer-probe.js';
import { syncGauges } from './sync-metrics.js';
import { MirrorService } from './mirror/mirror-service.js';
import { createRefreshRoute } from './mirror/refresh-route.js';
import { createWriteApi } from './write-api.js';
import { createMaintenance } from './cleanup/maintenance.js';

/** Configuration of a master (validated by the CLI before it gets here). */
export interface MasterConfig {
  /** The LDAP directory of users without a local record (`--ldap-config`, issue 15); absent = local users only. */
  ldap?: LdapConfig;
  /** Data directory made by `wheelhouse init`. */
  datadir: string;
  /** Interface to listen on. */
  host: string;
  /** TCP port (0 = any free port). */
  port: number;
  /** File whose bytes sign login (and replica) tokens; default `<datadir>/secret`. */
  secretFile?: string;
  /** URL clients reach this server at, when not derivable from the request. */
  outsideUrl?: string;
  /** Largest release file accepted, bytes. */
  maxFileBytes: number;
  /** fsync each commit. */
  syncCommits: boolean;
  /** Mirror indexes serve only what is cached; upstream is never contacted. */
  offline?: boolean;
  /** Only root may create users (`PUT /{user}`); default false: anyone may register, as in devpi. */
  restrictUserCreation?: boolean;
  /** Timeout of one upstream request of a mirror, ms (default 5,000). */
  mirrorTimeoutMs?: number;
  /** Background garbage collection every this many ms; 0 = on demand only (default 600,000). */
  gcIntervalMs?: number;
  /** Blobs younger than this are never collected, ms (default 3,600,000). */
  gcGraceMs?: number;
  /** Replicas not seen for this long no longer hold collection back, ms (default 86,400,000). */
  gcReplicaExpiryMs?: number;
  /**
   * Acknowledged means replicated (`--sync-replicas`): replicas that must confirm a write durable
   * before it is answered; default 1 once a replica has confirmed to this master within
   * `gcReplicaExpiryMs`, else 0 (`@wheelhouse/replication`'s `sync-replication.ts`).
   */
  syncReplicas?: number;
  /** Wait for those confirmations, ms (`--sync-timeout`, default 5,000); then 503, or asynchronous with `syncDegrade`. */
  syncTimeoutMs?: number;
  /** `--sync-degrade`: answer asynchronously (counted) instead of 503 when the replicas do not confirm in time. */
  syncDegrade?: boolean;
  /** Apply retention policies every this many ms (default: never; `wheelhouse cleanup` only). */
  cleanupIntervalMs?: number;
  /** Serve HTTPS with these PEM files, optionally a redirecting plain port (docs/operations.md, "TLS"). */
  tls?: NodeTlsOptions;
  /** Logger; default pino at info level to stdout. */
  logger?: Logger;
  /**
   * A write permit besides the fence: automatic failover's leadership lease (`@wheelhouse/failover`).
   * `refusal()` says why writes are refused right now (undefined while permitted); it is checked
   * at every local commit of the changelog, so no write commits once the lease's permit ended.
   * `status()` is shown as `/+status` `failover`.
   */
  writePermit?: { refusal(): string | undefined; status(): Record<string, unknown> };
  /** Longest wait for one known peer's epoch at start-up, ms (default 2,000; 0 skips the probe). */
  peerProbeMs?: number;
}

/** Paths inside a data directory. */
export function datadirPaths(datadir: string): { db: string; files: string; secret: string } {
  return { db: join(datadir, 'db'), files: join(datadir, 'files'), secret: join(datadir, 'secret') };
}

/** A built (not yet listening) master. */
export interface MasterApp {
  server: Server;
  changelog: Changelog;
  files: FileStore;
  log: Logger;
  /** Garbage collection of the file store (`POST /+gc`, background). */
  gc: BlobCollector;
  /** The master's fencing state (epoch, fenced or not; `roles/fence.ts`). */
  fence: Fence;
  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number>;
  /** Stops accepting, closes connections and the changelog. */
  close(): Promise<void>;
  /** Re-reads the TLS certificate and key (SIGHUP); a failure keeps the old ones (node-server.ts). */
  reloadTls(): TlsReload;
}

/** Reads a secret file (≥ 32 bytes); throws an Error that says what is wrong. */
export async function readSecret(path: string): Promise<Buffer> {
  let secret: Buffer;
  try {
    secret = await readFile(path);
  } catch (err) {
    throw new Error(`cannot read secret file ${path}: ${(err as Error).message}`);
  }
  if (secret.length < 32) throw new Error(`secret file ${path} must hold at least 32 bytes (it has ${secret.length})`);
  return secret;
}

/**
 * Builds a master from its config (see module doc). Throws NotInitialisedError for a datadir `init`
 * did not make, DataDirInUseError when another live process holds the datadir's lock.
 */
export async function createMasterApp(config: MasterConfig): Promise<MasterApp> {
  const lock = lockDataDir(config.datadir);
  try {
    return await buildMasterApp(config, lock.release);
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function buildMasterApp(config: MasterConfig, releaseLock: () => void): Promise<MasterApp> {
  const log = config.logger ?? pino({ level: 'info' });
  // unusable TLS files stop the start before anything is opened
  if (config.tls) readTlsPair(config.tls);
  const paths = datadirPaths(config.datadir);
  const changelog = await Changelog.open({ location: paths.db, sync: config.syncCommits });
  const files = new FileStore(paths.files);
  await files.cleanTemp();
  const secret = await readSecret(config.secretFile ?? paths.secret);
  const directory = config.ldap ? ldapUserDirectory(config.ldap, log) : undefined;
  const auth = new Authenticator(changelog, new TokenSigner(secret), undefined, undefined, directory);
  const pages = new SimplePages(changelog);
  const readAccess = new ReadAccess(changelog);
  const startedAt = Date.now();
  let boundUrl: string | null = null;
  const fence = new Fence(changelog, log);
  const permit = config.writePermit;
  if (permit) {
    changelog.guardWrites(() => {
      fence.assertWritable();
      const why = permit.refusal();
      if (why) throw new ServiceUnavailableError(`not the master now: ${why}`, 1);
    });
  }
  const node: NodeInfo = {
    role: 'master', uuid: changelog.uuid, masterUuid: () => changelog.uuid, serial: () => changelog.head,
    epoch: () => fence.epoch(), fenced: () => fence.fenced() !== undefined || permit?.refusal() !== undefined,
  };
  let lastCommitAt = 0;
  changelog.onCommit((r) => (lastCommitAt = r.at));

  const feed = createChangelogFeed({
    changelog, files, replicaTokens: replicaTokenSigner(secret), fence, epochs: () => fence.history(),
    onNewReplica: (info) => void rememberPeer(changelog, info.url).catch(() => undefined),
    onAck: (replica, serial) => sync.ack(replica.id, serial),
  });
  const sync = new SyncReplication({
    head: () => changelog.head,
    connected: () => feed.replicas().filter((r) => r.streaming && r.acked >= 0).length,
    meta: changelog,
    log,
    ...(config.syncReplicas !== undefined ? { replicas: config.syncReplicas } : {}),
    ...(config.syncTimeoutMs !== undefined ? { timeoutMs: config.syncTimeoutMs } : {}),
    ...(config.syncDegrade ? { degrade: true } : {}),
    ...(config.gcReplicaExpiryMs !== undefined ? { expiryMs: config.gcReplicaExpiryMs } : {}),
  });
  const mirrors = new MirrorService({
    changelog,
    files,
    node,
    log,
    ...(config.offline ? { offline: true } : {}),
    ...(config.mirrorTimeoutMs ? { timeoutMs: config.mirrorTimeoutMs } : {}),
  });
  const metrics = createNodeMetrics(changelog, [
    { name: 'wheelhouse_feed_streams', help: 'open changelog streams to replicas', value: () => feed.replicas().filter((r) => r.streaming).length },
    { name: 'wheelhouse_replicas_known', help: 'replicas that polled this master since start', value: () => feed.replicas().length },
    { name: 'wheelhouse_mirrors_failing', help: 'mirror indexes whose upstream is failing or whose circuit is open', value: () => mirrors.health().filter((m) => m.state === 'failing' || m.state === 'circuit-open').length },
    { name: 'wheelhouse_storage_failures', help: 'failed storage writes since start (changelog batches and file-store writes); each refused the write', value: () => changelog.storageHealth().failures + files.failures },
    { name: 'wheelhouse_storage_writes_refused', help: '1 while a storage failure keeps the changelog refusing writes (see /+status storage)', value: () => (changelog.storageHealth().state === 'ok' ? 0 : 1) },
    { name: 'wheelhouse_epoch', help: 'the epoch (master term) this node is in', value: () => fence.epoch() },
    { name: 'wheelhouse_fenced', help: '1 while this master is fenced (a higher epoch exists; writes refused)', value: () => (fence.fenced() ? 1 : 0) },
    ...syncGauges(sync),
    { name: 'wheelhouse_mirror_cached_projects', help: 'project pages cached over all mirror indexes', value: () => mirrors.health().reduce((n, m) => n + m.cachedProjects, 0) },
  ]);
  directory?.registerMetrics(metrics.registry);
  const maintenance = createMaintenance({ changelog, files, auth, secret, log, followers: () => feed.replicas(), registry: metrics.registry, config });
  const status = (): MasterStatus => ({
    role: 'MASTER',
    uuid: changelog.uuid,
    epoch: fence.epoch(),
    leader: fence.fenced() ? null : config.outsideUrl ?? boundUrl,
    fenced: fence.fenced() ? { ...fence.fenced()!, message: fence.message() } : false,
    epochs: fence.history(),
    ...(permit ? { failover: permit.status() } : {}),
    serial: changelog.head,
    'last-commit-timestamp': lastCommitAt ? lastCommitAt / 1000 : null,
    'started-at': new Date(startedAt).toISOString(),
    'uptime-seconds': Math.round((Date.now() - startedAt) / 1000),
    'server-version': '0.1.0',
    'outside-url': config.outsideUrl ?? null,
    'password-cache-entries': auth.cache.size,
    'memory-rss-bytes': process.memoryUsage().rss,
    storage: { ...changelog.storageHealth(), 'file-store-failures': files.failures },
    mirrors: mirrors.health(),
    replicas: feed.replicas().map((r) => ({ ...r, lastSeen: new Date(r.lastSeen).toISOString(), 'lag-serials': changelog.head - r.serial })),
    'disk-usage': maintenance.storageStatus(),
    'sync-replication': sync.stats(),
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use((_req, res, next) => {
    setNodeHeaders(res, node);
    next();
  });
  app.use(feed.router);
  app.use(createWebRouter({ state: changelog, files, status, role: 'master', readers: { access: readAccess, auth }, ...(config.outsideUrl ? { outsideUrl: config.outsideUrl } : {}) }));
  // not ready while a storage failure refuses writes (the reason is the store's message, e.g. the full disk)
  const ready = (): { ready: boolean; reason?: string } => {
    if (fence.fenced()) return { ready: false, reason: fence.message() };
    const why = permit?.refusal();
    if (why) return { ready: false, reason: `not the master now: ${why}` };
    const health = changelog.storageHealth();
    return health.state === 'ok' ? { ready: true } : { ready: false, reason: health.message ?? 'storage failed' };
  };
  app.use(createReadApi({ state: changelog, pages, auth, status, ready, metrics, mirrors, ...(config.outsideUrl ? { outsideUrl: config.outsideUrl } : {}) }));
  app.use(createRefreshRoute(changelog, mirrors, auth));
  app.use(maintenance.router);
  app.use(createWriteApi({ changelog, files, auth, maxFileBytes: config.maxFileBytes, replicated: (serial, newFileBytes) => sync.waitReplicated(serial ?? changelog.head, newFileBytes), ...(config.restrictUserCreation ? { restrictUserCreation: true } : {}) }));
  app.use((req, _res, next) => next(new NotFoundError(`not found: ${req.method} ${req.path}`)));
  app.use(createErrorHandler(log));

  let lastVerify = 0;
  const verifyClaim = (epoch: number | undefined): void => {
    if (epoch === undefined || epoch <= fence.epoch() || fence.fenced() || Date.now() - lastVerify < 2_000) return;
    lastVerify = Date.now();
    void probePeers({ changelog, fence, log, timeoutMs: config.peerProbeMs || 2_000, blockWrites: false });
  };
  const fast = createFastPath({ state: changelog, pages, blobs: files, node, mirrors });
  // the raw read path answers outside express: its one boundary (a throw or rejection → an error answer, never a dead process)
  const read = guard(log, fast, { beforeError: (res) => setNodeHeaders(res, node) });
  // every read of a read-restricted index is decided once, before both paths (core's read-gate.ts)
  const gate = createReadGate({ access: readAccess, auth, replicaTokens: replicaTokenSigner(secret) });
  const serve = guard(
    log,
    behindGate(gate, (req, res) => {
      if (read(req, res) === false) app(req, res);
    }),
    { beforeError: (res) => setNodeHeaders(res, node) },
  );
  const http = createNodeServer({
    host: config.host,
    port: config.port,
    nodeFile: { datadir: config.datadir, role: 'master' },
    ...(config.tls ? { tls: config.tls } : {}),
    handler: (req, res) => {
      // a proxy or replica that has seen a newer term says so on every request; anyone could send
      // the header, so the claim is checked with the known replicas (authenticated on the feed) first
      const claimed = req.headers['x-wheelhouse-epoch'];
      if (claimed !== undefined) verifyClaim(parseEpoch(claimed));
      logRequest(log, req, res, metrics.observeRequest);
      serve(req, res);
    },
  });

  return {
    server: http.server,
    changelog,
    files,
    log,
    gc: maintenance.collector,
    fence,
    listen: async () => {
      const bound = await http.listen();
      boundUrl = bound.url;
      // before the first write: ask the replicas this master knew whether a newer term began
      await probePeers({ changelog, fence, log, timeoutMs: config.peerProbeMs ?? 2_000 });
      maintenance.start();
      return bound.port;
    },
    close: async () => {
      fence.stop();
      maintenance.stop();
      sync.close();
      await http.close();
      pages.close();
      readAccess.close();
      await changelog.close();
      releaseLock();
    },
    reloadTls: () => http.reloadTls(),
  };
}
