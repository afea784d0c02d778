/**
 * The replica's composition root: its store (created on first start, then resumed at the last
 * applied serial), the tailer, the file replicator, the same fast read path and read API as the
 * master (served from local state only — no read path calls the master, so installs keep working
 * while it is down), and the write forwarder for everything else; see `generation.ts`.
 *
 * Following a new master (`followNewMaster`): when the master's store UUID changes (it was rebuilt
 * by `import`, e.g. for a major-version upgrade), the replica keeps serving its current state
 * and builds the new one beside it (`<datadir>/db-<uuid>`); once that has caught up with the new
 * master and fetched its files, `<datadir>/current-db` is switched (write + rename) and the server's
 * handler is swapped in one step — there is no moment in which it serves nothing or a half-built
 * state. Without it, a new master UUID stops replication with a fatal state (reads go on).
 */
import type { Server, IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { pino, type Logger } from 'pino';
import { FileStore, lockDataDir, type ChangeRecord } from '@wheelhouse/changelog';
import { createNodeMetrics, ldapUserDirectory, logRequest, replicaTokenSigner, type LdapConfig, type NodeMetrics, type PageSource } from '@wheelhouse/core';
import { createNodeServer, httpUrl, readTlsPair, trustedCaContext, type NodeTlsOptions, type TlsReload } from '@wheelhouse/http';
import { MasterClient, type FileReplicator, type Tailer } from '@wheelhouse/replication';
import { openGeneration, type Generation, type GenerationContext } from './generation.js';
import { createReplicaGc } from './replica-gc.js';

/** Configuration of a replica. */
export interface ReplicaConfig {
  /** The LDAP directory, as the master's (`--ldap-config`): replicas authenticate directory users themselves. */
  ldap?: LdapConfig;
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
  /** Follow a master with a new store UUID (see module doc). Default false. */
  followNewMaster?: boolean;
  /** Background garbage collection every this many ms; 0 = on demand only (default 600,000). */
  gcIntervalMs?: number;
  /** Blobs younger than this are never collected, ms (default 3,600,000). */
  gcGraceMs?: number;
  /** Serve HTTPS with these PEM files, optionally a redirecting plain port (docs/operations.md, "TLS"). */
  tls?: NodeTlsOptions;
  /** PEM CA file trusted (besides Node's roots) when the master's URL is https (`--tls-ca`). */
  tlsCaFile?: string;
  /** Automatic failover's view (`CandidacyStatus`), shown as `/+status` `failover`. */
  failoverStatus?: () => Record<string, unknown>;
  logger?: Logger;
}

/** A built (not yet listening) replica. */
export interface ReplicaApp {
  server: Server;
  /** The generation being served now. */
  current(): Generation;
  files: FileStore;
  log: Logger;
  /** The served generation's tailer and replicator (shortcuts). */
  readonly tailer: Tailer;
  readonly replicator: FileReplicator;
  readonly changelog: Generation['changelog'];
  /** The served generation's highest serial with its records and files all durable here (-1 none yet): what automatic failover ranks candidates by. */
  durableSerial(): number;
  /** The replica's id (`<datadir>/replica-id`). */
  readonly replicaId: string;
  /** Starts replication and listening; resolves with the bound port. */
  listen(): Promise<number>;
  /**
   * Follows the master at `url` from now on (a promoted master, docs/operations.md "Promotion and
   * rejoin"): the tailer reconnects there, and writes are forwarded there. The new master must be
   * in a newer epoch (or the same store) and not behind this replica's term, or the tailer refuses it.
   */
  repoint(url: string): Promise<void>;
  close(): Promise<void>;
  /** Re-reads the TLS certificate and key (SIGHUP); a failure keeps the old ones (node-server.ts). */
  reloadTls(): TlsReload;
}

async function readText(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').then((t) => t.trim(), () => undefined);
}

/** Builds a replica (see module doc). */
export async function createReplicaApp(config: ReplicaConfig): Promise<ReplicaApp> {
  const log = config.logger ?? pino({ level: 'info' });
  const masterUrl = config.masterUrl.replace(/\/+$/, '');
  if (/^https?:\/\/[^/]*@/.test(masterUrl)) throw new Error('--master-url must not hold user:password; replicas authenticate with the shared secret file');
  const secret = await readFile(config.secretFile).catch((err: Error) => {
    throw new Error(`cannot read secret file ${config.secretFile}: ${err.message}`);
  });
  if (secret.length < 32) throw new Error(`secret file ${config.secretFile} must hold at least 32 bytes`);
  // unusable TLS files stop the start before anything is opened
  if (config.tls) readTlsPair(config.tls);
  if (config.tlsCaFile) trustedCaContext(config.tlsCaFile);
  await mkdir(config.datadir, { recursive: true, mode: 0o700 });
  const lock = lockDataDir(config.datadir);
  try {
    return await buildReplicaApp(config, log, masterUrl, secret, lock.release);
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function buildReplicaApp(config: ReplicaConfig, log: Logger, masterUrl: string, secret: Buffer, releaseLock: () => void): Promise<ReplicaApp> {
  const files = new FileStore(join(config.datadir, 'files'));
  await files.cleanTemp();
  const idPath = join(config.datadir, 'replica-id');
  let replicaId = await readText(idPath);
  if (!replicaId) {
    replicaId = randomBytes(8).toString('hex');
    await writeFile(idPath, replicaId + '\n');
  }
  let boundUrl = config.outsideUrl ?? '';
  let current!: Generation;
  const master = new MasterClient({ masterUrl, ...(config.tlsCaFile ? { secureContext: trustedCaContext(config.tlsCaFile) } : {}), replicaTokens: replicaTokenSigner(secret), replicaId, get replicaUrl() { return boundUrl; }, epoch: () => current.tailer.epoch() });

  let next: Generation | undefined;
  let metrics: NodeMetrics | undefined;
  const gc = createReplicaGc({
    files,
    generations: () => (next ? [current, next] : [current]),
    secret,
    log,
    ...(config.gcGraceMs !== undefined ? { graceMs: config.gcGraceMs } : {}),
    ...(config.gcIntervalMs !== undefined ? { intervalMs: config.gcIntervalMs } : {}),
  });
  const commitListeners = new Set<(r: ChangeRecord) => void>();
  const directory = config.ldap ? ldapUserDirectory(config.ldap, log) : undefined;
  const ctx: GenerationContext = {
    ...(directory ? { directory } : {}),
    files,
    master,
    secret,
    log,
    replicaId,
    masterUrl: () => master.opts.masterUrl,
    maxLagSerials: config.maxLagSerials ?? 50,
    following: config.followNewMaster === true,
    metrics: () => metrics,
    extraStatus: () => ({
      'disk-usage': gc.storageStatus(),
      ...(config.failoverStatus ? { failover: config.failoverStatus() } : {}),
      ...(next
        ? { 'building-next': { uuid: next.changelog.uuid, 'master-uuid': next.tailer.state.masterUuid, serial: next.changelog.head, 'master-serial': next.tailer.state.masterSerial, 'files-queued': next.replicator.stats().queued } }
        : {}),
    }),
    ...(config.fileConcurrency ? { fileConcurrency: config.fileConcurrency } : {}),
    ...(config.pollMs ? { pollMs: config.pollMs } : {}),
    ...(config.writeWaitMs ? { writeWaitMs: config.writeWaitMs } : {}),
    ...(config.outsideUrl ? { outsideUrl: config.outsideUrl } : {}),
    ...(config.followNewMaster ? { onMasterChange: (uuid: string) => void buildNext(uuid) } : {}),
  };
  const open = async (dbDir: string): Promise<Generation> => {
    const g = await openGeneration(ctx, join(config.datadir, dbDir), dbDir);
    for (const l of commitListeners) g.changelog.onCommit(l);
    return g;
  };
  // metrics outlive generations: they read whichever generation is served
  const state: PageSource = {
    get head() {
      return current.changelog.head;
    },
    get: (key) => current.changelog.get(key),
    children: (parent) => current.changelog.children(parent),
    onCommit: (listener) => {
      // attached to every generation as it is opened
      commitListeners.add(listener);
      return () => commitListeners.delete(listener);
    },
  };
  metrics = createNodeMetrics(state, [
    { name: 'wheelhouse_replication_lag_serials', help: 'serials behind the master', value: () => current.lagSerials() },
    { name: 'wheelhouse_replication_lag_seconds', help: 'seconds since the replica was last in sync (0 when in sync)', value: () => (current.lagSerials() === 0 ? 0 : current.tailer.state.inSyncAt ? (Date.now() - current.tailer.state.inSyncAt) / 1000 : -1) },
    { name: 'wheelhouse_replication_master_reachable', help: '1 when the last request to the master succeeded', value: () => (current.tailer.state.error || !current.tailer.state.lastContact ? 0 : 1) },
    { name: 'wheelhouse_replication_fatal', help: '1 when replication stopped for good (e.g. master UUID changed)', value: () => (current.tailer.state.fatal ? 1 : 0) },
    { name: 'wheelhouse_epoch', help: 'the epoch (master term) this node is in', value: () => current.tailer.epoch() },
    { name: 'wheelhouse_fenced', help: '1 while this node is fenced (a replica never is)', value: () => 0 },
    { name: 'wheelhouse_replication_records_applied', help: 'records applied since start', value: () => current.tailer.state.applied },
    { name: 'wheelhouse_replication_building_next', help: '1 while the state of a new master is built beside the served one', value: () => (next ? 1 : 0) },
    { name: 'wheelhouse_storage_failures', help: 'failed storage writes since start (changelog batches of the served state, file-store writes)', value: () => current.changelog.storageHealth().failures + files.failures },
    { name: 'wheelhouse_storage_writes_refused', help: '1 while a storage failure keeps the served changelog from applying records', value: () => (current.changelog.storageHealth().state === 'ok' ? 0 : 1) },
    { name: 'wheelhouse_file_queue_length', help: 'files waiting to be replicated', value: () => current.replicator.stats().queued },
    { name: 'wheelhouse_files_failed', help: 'files whose replication failed and will be retried', value: () => current.replicator.stats().failed.length },
  ]);
  gc.registerMetrics(metrics.registry);
  directory?.registerMetrics(metrics.registry);
  current = await open((await readText(join(config.datadir, 'current-db'))) ?? 'db');

  let closing = false;
  /** Builds the next generation for the master's new UUID, then swaps to it (see module doc). */
  async function buildNext(uuid: string): Promise<void> {
    if (next || closing) return;
    const dbDir = `db-${uuid.slice(0, 12)}`;
    await rm(join(config.datadir, dbDir), { recursive: true, force: true });
    const g = await open(dbDir);
    next = g;
    g.start();
    log.warn({ dbDir, uuid }, 'following the new master: building its state beside the served one');
    while (!closing) {
      const t = g.tailer.state;
      if (t.fatal || t.superseded) {
        log.error({ fatal: t.fatal, superseded: t.superseded }, 'the new generation failed; keeping the served one');
        await g.close();
        next = undefined;
        return;
      }
      if (t.initialSyncDone && g.lagSerials() === 0 && g.replicator.stats().queued === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (closing) return;
    const pointer = join(config.datadir, 'current-db');
    await writeFile(`${pointer}.tmp`, dbDir + '\n');
    await rename(`${pointer}.tmp`, pointer);
    const old = current;
    current = g; // from here on every new request is served by the new state
    next = undefined;
    log.warn({ from: old.changelog.uuid, to: g.changelog.uuid, serial: g.changelog.head }, 'switched to the new master\'s state');
    // requests in flight on the old state finish first
    setTimeout(() => {
      void old.close().then(() => rm(join(config.datadir, old.dbDir), { recursive: true, force: true }));
    }, 5_000).unref();
  }

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    logRequest(log, req, res, metrics?.observeRequest);
    if (!gc.handle(req, res)) current.handle(req, res);
  };
  const http = createNodeServer({ host: config.host, port: config.port, handler: handle, nodeFile: { datadir: config.datadir, role: 'replica' }, ...(config.tls ? { tls: config.tls } : {}) });
  const server = http.server;

  return {
    server,
    current: () => current,
    replicaId,
    files,
    log,
    get tailer() {
      return current.tailer;
    },
    get replicator() {
      return current.replicator;
    },
    get changelog() {
      return current.changelog;
    },
    durableSerial: () => current.durableSerial(),
    listen: async () => {
      const { port } = await http.listen();
      boundUrl ||= httpUrl(config.host, port, config.tls ? 'https' : 'http');
      // `wheelhouse promote` asks this master whether it still runs (docs/operations.md)
      if (current.changelog.getMeta('master-url') !== masterUrl) await current.changelog.setMeta('master-url', masterUrl);
      current.start();
      gc.start();
      return port;
    },
    repoint: async (url: string) => {
      master.repoint(url);
      await current.changelog.setMeta('master-url', master.opts.masterUrl);
      log.warn({ master: master.opts.masterUrl }, 'replica re-pointed to a new master');
      current.tailer.reconnect();
    },
    close: async () => {
      closing = true;
      gc.stop();
      await http.close();
      await next?.close();
      await current.close();
      await master.close();
      releaseLock();
    },
    reloadTls: () => http.reloadTls(),
  };
}
