/**
 * What the parts of the benchmark share when they run in one go: the populated master (started by
 * whichever part needs it first), its replica, and every other node, all under one TestRoot so a
 * signal can kill them. Each part can also run alone and then builds what it needs.
 */
import { TestRoot, type WheelhouseProcess } from '@wheelhouse/testing';
import { createBenchIndex, type BenchIndex } from './index-setup.js';
import { population } from './release-files.js';
import { waitInSync } from './replica-sync.js';
import { devpiAuth, runUploads, type UploadOutcome } from './upload-runner.js';

export const PROJECTS = 300;
export const FILES = 2_000;
export const POPULATE_CONCURRENCY = 8;
export const USER = 'bench';
export const PASSWORD = 'bench-password-0123';
export const INDEX = 'dev';

export type Say = (s: string) => void;

/** The benchmark's master did not start (init failed, or it was not ready in time). */
export class ServerStartError extends Error {
  override readonly name = 'ServerStartError';
}

/**
 * `wheelhouse init` (root password `rootPassword`) and a master on it under `root`, at log level
 * warn, ready when `/+ready` answers 200.
 * @throws ServerStartError
 */
export async function startBenchMaster(root: TestRoot, rootPassword: string, name = 'master'): Promise<WheelhouseProcess> {
  try {
    return await root.startMaster(name, rootPassword);
  } catch (err) {
    throw new ServerStartError((err as Error).message);
  }
}

export class BenchCluster {
  master: WheelhouseProcess | undefined;
  ix: BenchIndex | undefined;
  populate: UploadOutcome | undefined;
  replica: WheelhouseProcess | undefined;
  /** Seconds the replica took from spawn to serial and files in sync with the master. */
  replicaSyncSeconds: number | undefined;
  /** Seconds from spawn until the replica's /+ready was 200 (serials applied; files may still be queued). */
  replicaReadySeconds: number | undefined;
  /** Serial of the master when the replica was started. */
  replicaSyncSerial: number | undefined;
  readonly others = new Set<WheelhouseProcess>();
  readonly nodes: TestRoot = new TestRoot('bench-cluster');

  constructor(private readonly say: Say) {}

  /** The temp directory every node of the run lives under. */
  get root(): string {
    return this.nodes.root;
  }

  /** The master with the benchmark index populated (PROJECTS projects, FILES files). */
  async populatedMaster(): Promise<{ master: WheelhouseProcess; ix: BenchIndex }> {
    if (this.master && this.ix) return { master: this.master, ix: this.ix };
    this.master = await startBenchMaster(this.nodes, 'bench-root-password');
    this.say(`master pid ${String(this.master.pid)} at ${this.master.url}`);
    this.ix = await createBenchIndex(this.master.url, USER, PASSWORD, INDEX);
    this.say(`populating ${this.ix.indexPath}: ${PROJECTS} projects, ${FILES} files`);
    this.populate = await runUploads({
      baseUrl: this.master.url,
      indexPath: this.ix.indexPath,
      authHeaders: devpiAuth(USER, this.ix.token),
      files: population(PROJECTS, FILES),
      concurrency: POPULATE_CONCURRENCY,
      budgetMs: 60_000,
    });
    return { master: this.master, ix: this.ix };
  }

  /** A replica of the populated master, started fresh and waited for until serial and files are in sync. */
  async syncedReplica(): Promise<WheelhouseProcess> {
    const { master } = await this.populatedMaster();
    if (this.replica?.running) return this.replica;
    this.replicaSyncSerial = Number((await master.status()).serial);
    this.say(`starting a replica of ${master.url} (serial ${this.replicaSyncSerial})`);
    const replica = await this.nodes.startReplica('replica', master, { timeoutMs: 120_000 });
    this.replica = replica;
    this.replicaReadySeconds = (performance.now() - replica.spawnedAt) / 1000;
    await waitInSync(master, replica, 120_000);
    this.replicaSyncSeconds = (performance.now() - replica.spawnedAt) / 1000;
    this.say(`replica pid ${String(replica.pid)} at ${replica.url}, in sync after ${this.replicaSyncSeconds.toFixed(2)} s`);
    return replica;
  }

  track(node: WheelhouseProcess): WheelhouseProcess {
    this.others.add(node);
    return node;
  }

  /** Kills everything at once (signal path). */
  killNow(): void {
    for (const n of this.nodes.nodes) n.killNow();
    void this.nodes.cleanup();
  }

  /** Stops every process we started and removes the temp dirs. */
  async stop(): Promise<void> {
    for (const n of this.others) await n.stop();
    await this.replica?.stop();
    await this.master?.stop();
    await this.nodes.cleanup();
  }
}
