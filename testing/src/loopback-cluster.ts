// The docker-compose topology on loopback: a master, host A's replica (`replicaA`, the proxy's
// `replica1`), host B's replica (`replicaB`, `replica2`) and the proxy in front, every node a
// WheelhouseProcess under one TestRoot.
import type { TestContext } from 'node:test';
import { waitProxyBackends } from './proxy-backends.js';
import { TestRoot } from './test-root.js';
import type { WheelhouseProcess } from './wheelhouse-process.js';

export interface LoopbackClusterOptions {
  /** Short label for the temp directory. */
  readonly label: string;
  readonly rootPassword: string;
}

/** Master, two replicas and a proxy, all ready and the proxy seeing every backend usable. */
export class LoopbackCluster {
  private constructor(
    readonly testRoot: TestRoot,
    readonly master: WheelhouseProcess,
    readonly replicaA: WheelhouseProcess,
    readonly replicaB: WheelhouseProcess,
    readonly proxy: WheelhouseProcess,
  ) {}

  get root(): string {
    return this.testRoot.root;
  }

  get nodes(): WheelhouseProcess[] {
    return [this.master, this.replicaA, this.replicaB, this.proxy];
  }

  /** Starts the four nodes (replicas in parallel). @throws after killing what started. */
  static async start(opts: LoopbackClusterOptions): Promise<LoopbackCluster> {
    const root = new TestRoot(opts.label);
    try {
      const master = await root.startMaster('master', opts.rootPassword);
      const [replicaA, replicaB] = await Promise.all([root.startReplica('replicaA', master), root.startReplica('replicaB', master)]);
      const proxy = await root.proxy('proxy', master, [replicaA, replicaB]).start();
      await waitProxyBackends(proxy.url, { master: true, replica1: true, replica2: true });
      return new LoopbackCluster(root, master, replicaA, replicaB, proxy);
    } catch (err) {
      await root.killAll();
      throw err;
    }
  }

  /** Stops all nodes (SIGTERM, then SIGKILL) and removes the temp dir unless `keep` or WH_E2E_KEEP. */
  async stop(keep = false): Promise<void> {
    if (keep) this.testRoot.markFailed();
    await this.testRoot.cleanup({ graceful: true });
  }

  /** Attaches every node's log tail to the test output (for a failing test). */
  diagnose(t: TestContext, lines = 40): void {
    this.testRoot.diagnose(t, lines);
  }
}

/** Runs test body `fn`; on failure calls `onFail` (keep the temp dir), attaches the cluster's logs and rethrows. */
export function withClusterLogs(
  getCluster: () => LoopbackCluster | undefined,
  onFail: () => void,
  fn: (t: TestContext) => Promise<void>,
): (t: TestContext) => Promise<void> {
  return async (t) => {
    try {
      await fn(t);
    } catch (err) {
      onFail();
      getCluster()?.diagnose(t);
      throw err;
    }
  };
}
