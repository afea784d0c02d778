// The automatic-failover topology on loopback: etcd (started by the caller, e.g. with
// @wheelhouse/failover's startLocalEtcd), a master and two replicas that all take part in the
// election (`--etcd`), and a proxy that follows the leader key. What `wheelhouse cluster
// --failover` starts, as WheelhouseProcesses under one TestRoot.
import { waitProxyBackends } from './proxy-backends.js';
import { TestRoot } from './test-root.js';
import { waitFor } from './wait-for.js';
import type { WheelhouseProcess } from './wheelhouse-process.js';

export interface FailoverClusterOptions {
  readonly label: string;
  readonly rootPassword: string;
  /** etcd client URL. */
  readonly etcdUrl: string;
  /** `--etcd-prefix`; default a fresh one per cluster. */
  readonly prefix?: string;
  /** More arguments of the master (e.g. `--sync-replicas 1`). */
  readonly masterArgs?: readonly string[];
  /** `--etcd-lease-ttl`, ms; default the nodes' (5,000). */
  readonly leaseTtlMs?: number;
}

/** Master, two replicas and a proxy with `--etcd`; the master holds the leader key. */
export class FailoverCluster {
  private constructor(
    readonly testRoot: TestRoot,
    readonly master: WheelhouseProcess,
    readonly replicas: readonly [WheelhouseProcess, WheelhouseProcess],
    readonly proxy: WheelhouseProcess,
    /** The `--etcd…` arguments every node got. */
    readonly etcdArgs: readonly string[],
  ) {}

  get root(): string {
    return this.testRoot.root;
  }

  get nodes(): WheelhouseProcess[] {
    return [this.master, ...this.replicas, this.proxy];
  }

  /** Starts etcd's participants (see module doc). @throws after killing what started. */
  static async start(opts: FailoverClusterOptions): Promise<FailoverCluster> {
    const root = new TestRoot(opts.label);
    const prefix = opts.prefix ?? `/wheelhouse-test/${opts.label}-${process.pid}-${Date.now()}/`;
    const etcdArgs = ['--etcd', opts.etcdUrl, '--etcd-prefix', prefix, ...(opts.leaseTtlMs ? ['--etcd-lease-ttl', String(opts.leaseTtlMs)] : [])];
    try {
      // generous readiness bounds: a loaded CI machine starts node processes slowly
      const timeoutMs = 90_000;
      const master = await root.startMaster('master', opts.rootPassword, { args: [...etcdArgs, ...(opts.masterArgs ?? [])], timeoutMs });
      const [r1, r2] = await Promise.all([root.startReplica('replica1', master, { args: etcdArgs, timeoutMs }), root.startReplica('replica2', master, { args: etcdArgs, timeoutMs })]);
      const proxy = await root.proxy('proxy', master, [r1, r2], { args: etcdArgs }).start({ timeoutMs });
      await waitProxyBackends(proxy.url, { master: true, replica1: true, replica2: true });
      await waitFor(async () => {
        const st = await master.status();
        return (st['failover'] as { state?: string } | undefined)?.state === 'leader';
      }, { timeoutMs: 30_000, what: 'the master to hold the leader key' });
      return new FailoverCluster(root, master, [r1, r2], proxy, etcdArgs);
    } catch (err) {
      await root.killAll();
      throw err;
    }
  }

  /** Stops all nodes and removes the temp dir unless `keep` or WH_E2E_KEEP. */
  async stop(keep = false): Promise<void> {
    if (keep) this.testRoot.markFailed();
    await this.testRoot.cleanup({ graceful: true });
  }
}
