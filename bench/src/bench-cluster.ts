/**
 * What the parts of the benchmark share when they run in one go: the populated master (started by
 * whichever part needs it first), its replica, a temp dir for the other nodes, and every process we
 * started so a signal can kill them. Each part can also run alone and then builds what it needs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startReplica, waitInSync } from './cluster-nodes.js';
import { createBenchIndex, type BenchIndex } from './index-setup.js';
import type { NodeProcess } from './node-process.js';
import { population } from './release-files.js';
import { ServerProcess } from './server-process.js';
import { devpiAuth, runUploads, type UploadOutcome } from './upload-runner.js';

export const PROJECTS = 300;
export const FILES = 2_000;
export const POPULATE_CONCURRENCY = 8;
export const USER = 'bench';
export const PASSWORD = 'bench-password-0123';
export const INDEX = 'dev';

export type Say = (s: string) => void;

export class BenchCluster {
  master: ServerProcess | undefined;
  ix: BenchIndex | undefined;
  populate: UploadOutcome | undefined;
  replica: NodeProcess | undefined;
  /** Seconds the replica took from spawn to serial and files in sync with the master. */
  replicaSyncSeconds: number | undefined;
  /** Seconds from spawn until the replica's /+ready was 200 (serials applied; files may still be queued). */
  replicaReadySeconds: number | undefined;
  /** Serial of the master when the replica was started. */
  replicaSyncSerial: number | undefined;
  readonly others = new Set<NodeProcess>();
  readonly root: string = mkdtempSync(join(tmpdir(), 'wh-bench-cluster-'));

  constructor(private readonly say: Say) {}

  /** The master with the benchmark index populated (PROJECTS projects, FILES files). */
  async populatedMaster(): Promise<{ master: ServerProcess; ix: BenchIndex }> {
    if (this.master && this.ix) return { master: this.master, ix: this.ix };
    this.master = await ServerProcess.start('bench-root-password');
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
  async syncedReplica(): Promise<NodeProcess> {
    const { master } = await this.populatedMaster();
    if (this.replica?.running) return this.replica;
    this.replicaSyncSerial = Number((await master.status()).serial);
    this.say(`starting a replica of ${master.url} (serial ${this.replicaSyncSerial})`);
    const replica = await startReplica(this.root, 'replica', master.url, join(master.datadir, 'secret'));
    this.replica = replica;
    this.replicaReadySeconds = (performance.now() - replica.spawnedAt) / 1000;
    await waitInSync(master, replica, 120_000);
    this.replicaSyncSeconds = (performance.now() - replica.spawnedAt) / 1000;
    this.say(`replica pid ${String(replica.pid)} at ${replica.url}, in sync after ${this.replicaSyncSeconds.toFixed(2)} s`);
    return replica;
  }

  track(node: NodeProcess): NodeProcess {
    this.others.add(node);
    return node;
  }

  /** Kills everything at once (signal path). */
  killNow(): void {
    for (const n of this.others) n.killNow();
    this.replica?.killNow();
    this.master?.killNow();
    rmSync(this.root, { recursive: true, force: true });
  }

  /** Stops every process we started and removes the temp dirs. */
  async stop(): Promise<void> {
    for (const n of this.others) await n.stop();
    await this.replica?.stop();
    await this.master?.stop();
    rmSync(this.root, { recursive: true, force: true });
  }
}
