/**
 * The replica's composition root: its own changelog and file store (created on first start, then
 * resumed at the last applied serial), the tailer, the file replicator, the same fast read path
 * and read API as the master (served from local state only — no read path calls the master, so
 * installs keep working while it is down), and the write forwarder for everything else.
 */
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import express from 'express';
import { pino, type Logger } from 'pino';
import { Changelog, FileStore } from '@wheelhouse/changelog';
import {
  Authenticator,
  NotFoundError,
  SimplePages,
  TokenSigner,
  createErrorHandler,
  createFastPath,
  createReadApi,
  createNodeMetrics,
  handle,
  logRequest,
  replicaTokenSigner,
  setNodeHeaders,
  type NodeInfo,
} from '@wheelhouse/core';
import { acceptPushMethod, createChangelogFeed, removeNodeFile, writeNodeFile } from '@wheelhouse/master';
import { MasterClient } from './master-client.js';
import { Tailer } from './tailer.js';
import { FileReplicator } from './file-replicator.js';
import { createWriteForwarder } from './write-forwarder.js';

/** Configuration of a replica. */
export interface ReplicaConfig {
  /** Data directory (created on first start). */
  datadir: string;
  host: string;
  /** TCP port (0 = any). */
  port: number;
  /** The master's URL. */
  masterUrl: string;
  /** The secret file shared with the master (signs replica and login tokens). */
  secretFile: string;
  /** URL clients reach this replica at. */
  outsideUrl?: string;
  /** Readiness: most serials behind the master while still ready (default 50). */
  maxLagSerials?: number;
  /** Parallel file downloads (default 4). */
  fileConcurrency?: number;
  /** Long-poll time the master uses, ms (default 30,000). */
  pollMs?: number;
  /** Wait for read-your-writes after a forwarded write, ms (default 30,000). */
  writeWaitMs?: number;
  logger?: Logger;
}

/** A built (not yet listening) replica. */
export interface ReplicaApp {
  server: Server;
  changelog: Changelog;
  files: FileStore;
  tailer: Tailer;
  replicator: FileReplicator;
  log: Logger;
  /** Starts replication and listening; resolves with the bound port. */
  listen(): Promise<number>;
  close(): Promise<void>;
}

/** Builds a replica (see module doc). */
export async function createReplicaApp(config: ReplicaConfig): Promise<ReplicaApp> {
  const log = config.logger ?? pino({ level: 'info' });
  const masterUrl = config.masterUrl.replace(/\/+$/, '');
  if (/^https?:\/\/[^/]*@/.test(masterUrl)) throw new Error('--master-url must not hold user:password; replicas authenticate with the shared secret file');
  const changelog = await Changelog.open({ location: join(config.datadir, 'db'), create: true, sync: false });
  const files = new FileStore(join(config.datadir, 'files'));
  await files.cleanTemp();
  const secret = await readFile(config.secretFile).catch((err: Error) => {
    throw new Error(`cannot read secret file ${config.secretFile}: ${err.message}`);
  });
  if (secret.length < 32) throw new Error(`secret file ${config.secretFile} must hold at least 32 bytes`);
  let replicaId = changelog.getMeta('replica-id');
  if (!replicaId) {
    replicaId = randomBytes(8).toString('hex');
    await changelog.setMeta('replica-id', replicaId);
  }
  let boundUrl = config.outsideUrl ?? '';
  const master = new MasterClient({ masterUrl, replicaTokens: replicaTokenSigner(secret), replicaId, get replicaUrl() { return boundUrl; } });
  const replicator = new FileReplicator({ changelog, files, master, log, ...(config.fileConcurrency ? { concurrency: config.fileConcurrency } : {}) });
  const tailer = new Tailer({ changelog, master, log, onApplied: (r) => replicator.onRecord(r), ...(config.pollMs ? { pollMs: config.pollMs } : {}) });
  const auth = new Authenticator(changelog, new TokenSigner(secret));
  // replicas serve the same feed (token required): backups of a running replica, chained replicas
  const feed = createChangelogFeed({ changelog, files, replicaTokens: replicaTokenSigner(secret) });
  const pages = new SimplePages(changelog);
  const node: NodeInfo = { role: 'replica', uuid: changelog.uuid, masterUuid: () => tailer.state.masterUuid, serial: () => changelog.head };
  const maxLag = config.maxLagSerials ?? 50;
  const startedAt = Date.now();

  const lagSerials = (): number => Math.max(0, tailer.state.masterSerial - changelog.head);
  const status = (): Record<string, unknown> => {
    const t = tailer.state;
    const f = replicator.stats();
    return {
      role: 'REPLICA',
      uuid: changelog.uuid,
      'master-uuid': t.masterUuid,
      'master-url': masterUrl,
      'replica-id': replicaId,
      serial: changelog.head,
      'master-serial': t.masterSerial,
      'lag-serials': lagSerials(),
      'lag-seconds': t.inSyncAt && lagSerials() === 0 ? 0 : t.inSyncAt ? Math.round((Date.now() - t.inSyncAt) / 1000) : null,
      'last-master-contact': t.lastContact ? new Date(t.lastContact).toISOString() : null,
      'in-sync-at': t.inSyncAt ? new Date(t.inSyncAt).toISOString() : null,
      'initial-sync-done': t.initialSyncDone,
      'replication-error': t.error ?? null,
      'replication-fatal': t.fatal ?? null,
      'records-applied': t.applied,
      'files-queued': f.queued,
      'files-fetched': f.fetched,
      'files-failed': f.failed.map((x) => ({ ...x, retryAt: new Date(x.retryAt).toISOString() })),
      'started-at': new Date(startedAt).toISOString(),
      'memory-rss-bytes': process.memoryUsage().rss,
    };
  };
  const metrics = createNodeMetrics(changelog, [
    { name: 'wheelhouse_replication_lag_serials', help: 'serials behind the master', value: lagSerials },
    { name: 'wheelhouse_replication_lag_seconds', help: 'seconds since the replica was last in sync (0 when in sync)', value: () => (lagSerials() === 0 ? 0 : tailer.state.inSyncAt ? (Date.now() - tailer.state.inSyncAt) / 1000 : -1) },
    { name: 'wheelhouse_replication_master_reachable', help: '1 when the last request to the master succeeded', value: () => (tailer.state.error || !tailer.state.lastContact ? 0 : 1) },
    { name: 'wheelhouse_replication_fatal', help: '1 when replication stopped for good (e.g. master UUID changed)', value: () => (tailer.state.fatal ? 1 : 0) },
    { name: 'wheelhouse_replication_records_applied', help: 'records applied since start', value: () => tailer.state.applied },
    { name: 'wheelhouse_file_queue_length', help: 'files waiting to be replicated', value: () => replicator.stats().queued },
    { name: 'wheelhouse_files_failed', help: 'files whose replication failed and will be retried', value: () => replicator.stats().failed.length },
  ]);
  const ready = (): { ready: boolean; reason?: string } => {
    if (tailer.state.fatal) return { ready: false, reason: tailer.state.fatal };
    if (!tailer.state.initialSyncDone) return { ready: false, reason: 'initial sync with the master not done yet' };
    if (lagSerials() > maxLag) return { ready: false, reason: `${lagSerials()} serials behind the master (bound ${maxLag})` };
    return { ready: true };
  };

  const forward = createWriteForwarder({
    changelog,
    master,
    log,
    via: `wheelhouse-replica-${replicaId}`,
    ...(config.writeWaitMs ? { waitMs: config.writeWaitMs } : {}),
    ...(config.outsideUrl ? { outsideUrl: config.outsideUrl } : {}),
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
  app.use(createReadApi({ state: changelog, pages, auth, status, ready, metrics, ...(config.outsideUrl ? { outsideUrl: config.outsideUrl } : {}) }));
  app.use((req, _res, next) => next(new NotFoundError(`not found: ${req.method} ${req.path}`)));
  app.use(createErrorHandler(log));

  const fast = createFastPath({
    state: changelog,
    pages,
    blobs: files,
    node,
    onMissingBlob: (req, res, entry, sha256) => {
      const filename = (req.url ?? '').split('?')[0]!.split('/').pop() ?? sha256;
      void replicator.serveMissing(req, res, entry, sha256, decodeURIComponent(filename));
    },
  });
  const server = createServer((req, res) => {
    logRequest(log, req, res, metrics.observeRequest);
    if (!fast(req, res)) app(req, res);
  });
  server.keepAliveTimeout = 65_000;
  acceptPushMethod(server);

  return {
    server,
    changelog,
    files,
    tailer,
    replicator,
    log,
    listen: async () => {
      const port = await new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          const addr = server.address();
          resolve(typeof addr === 'object' && addr ? addr.port : config.port);
        });
      });
      boundUrl ||= `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
      const local = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
      await writeNodeFile(config.datadir, { role: 'replica', url: `http://${local.includes(':') ? `[${local}]` : local}:${port}`, pid: process.pid });
      tailer.start();
      void replicator.scheduleMissing();
      return port;
    },
    close: async () => {
      await removeNodeFile(config.datadir);
      await tailer.stop();
      await replicator.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      pages.close();
      await master.close();
      await changelog.close();
    },
  };
}
