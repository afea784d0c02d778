// The temp directory of one test file (or benchmark) and every node started under it: `wheelhouse
// init`, masters, replicas and proxies as WheelhouseProcess, log diagnostics when a test fails,
// and cleanup. The directory is kept when a test failed or WH_E2E_KEEP is set.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { WheelhouseProcess, wheelhouseInit, type NodeSpec, type StartOptions } from './wheelhouse-process.js';

/** Per-node options of {@link TestRoot}'s factories. */
export interface NodeOptions {
  /** More CLI arguments (see NodeSpec.args). */
  readonly args?: readonly string[];
  /** `--log-level`; default `warn`. */
  readonly logLevel?: string;
  /** Data directory; default `<root>/<name>`. */
  readonly datadir?: string;
  /** The node serves HTTPS (its args carry --tls-cert/--tls-key); the test trusts this CA file (see NodeSpec.tlsCa). */
  readonly tlsCa?: string;
}

/** A temp root with its nodes (see the module doc). */
export class TestRoot {
  /** The temp directory: `<tmp>/wh-<label>-XXXXXX`; node `N` has `N/` and `N.log` in it. */
  readonly root: string;
  readonly nodes: WheelhouseProcess[] = [];
  private failed = false;

  constructor(label: string) {
    this.root = mkdtempSync(join(tmpdir(), `wh-e2e-${label}-`));
  }

  /** A path for test files (venvs, distributions, dumps) under the root. */
  dir(name: string): string {
    return join(this.root, name);
  }

  /**
   * `wheelhouse init --datadir <root>/<name> [--root-password P]`; returns the data directory.
   * @throws Error with the command's output when init fails.
   */
  async init(name: string, rootPassword?: string): Promise<string> {
    const datadir = this.dir(name);
    await wheelhouseInit(datadir, rootPassword, this.root);
    return datadir;
  }

  /** A node under this root, not started (log `<root>/<name>.log`); it is stopped by cleanup(). */
  node(spec: Omit<NodeSpec, 'logPath'> & { readonly logPath?: string }): WheelhouseProcess {
    const node = new WheelhouseProcess({ ...spec, logPath: spec.logPath ?? join(this.root, `${spec.name}.log`) });
    this.nodes.push(node);
    return node;
  }

  /** A master on an existing data directory (default `<root>/<name>`), not started. */
  master(name: string, opts: NodeOptions = {}): WheelhouseProcess {
    return this.node({ name, role: 'master', datadir: opts.datadir ?? this.dir(name), ...nodeArgs(opts) });
  }

  /** `init` a new data directory (root password `rootPassword`) and start a master on it. */
  async startMaster(name: string, rootPassword?: string, opts: NodeOptions & StartOptions = {}): Promise<WheelhouseProcess> {
    const datadir = await this.init(name, rootPassword);
    return this.master(name, { ...opts, datadir }).start(opts);
  }

  /** A replica of `master` on a new data directory `<root>/<name>`, not started. */
  replica(name: string, master: WheelhouseProcess, opts: NodeOptions = {}): WheelhouseProcess {
    return this.node({
      name, role: 'replica', datadir: opts.datadir ?? this.dir(name), logLevel: opts.logLevel ?? 'warn', ...(opts.tlsCa ? { tlsCa: opts.tlsCa } : {}),
      args: ['--master-url', master.url, '--secret-file', master.secretFile, ...(opts.args ?? [])],
    });
  }

  /** A replica of `master`, started (by default until `/+ready` is 200: initial sync done). */
  startReplica(name: string, master: WheelhouseProcess, opts: NodeOptions & StartOptions = {}): Promise<WheelhouseProcess> {
    return this.replica(name, master, opts).start(opts);
  }

  /** A proxy in front of `master` and `replicas` (the proxy names them replica1, replica2, …), not started. */
  proxy(name: string, master: WheelhouseProcess | string, replicas: ReadonlyArray<WheelhouseProcess | string>, opts: NodeOptions = {}): WheelhouseProcess {
    const url = (n: WheelhouseProcess | string): string => (typeof n === 'string' ? n : n.url);
    const args = ['--master', url(master), ...replicas.flatMap((r) => ['--replica', url(r)]), ...(opts.args ?? [])];
    return this.node({ name, role: 'proxy', args, logLevel: opts.logLevel ?? 'warn', ...(opts.tlsCa ? { tlsCa: opts.tlsCa } : {}) });
  }

  /** Keep the root at cleanup (a test failed). */
  markFailed(): void {
    this.failed = true;
  }

  /** SIGKILLs every node still running (tests that care stop their nodes themselves). */
  async killAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill9()));
  }

  /** SIGTERM (SIGKILL after the bound) for every node, in reverse start order. */
  async stopAll(): Promise<void> {
    for (const n of [...this.nodes].reverse()) await n.stop();
  }

  /** Kills every node and removes the root, unless a test failed or WH_E2E_KEEP is set. */
  async cleanup(opts: { readonly graceful?: boolean } = {}): Promise<void> {
    if (opts.graceful) await this.stopAll();
    await this.killAll();
    if (this.failed || process.env['WH_E2E_KEEP']) {
      process.stderr.write(`wheelhouse e2e: kept ${this.root} (node logs: ${this.root}/*.log)\n`);
    } else {
      rmSync(this.root, { recursive: true, force: true });
    }
  }

  /** Attaches each node's unexpected exit and log tail to the test's diagnostics. */
  diagnose(t: TestContext, lines = 40): void {
    for (const node of this.nodes) {
      if (node.unexpectedExit) t.diagnostic(node.unexpectedExit);
      // one diagnostic per line: the reporters escape newlines inside a single one
      t.diagnostic(`--- ${node.logPath} (last lines) ---`);
      for (const line of node.logTail(lines).split('\n')) if (line.trim()) t.diagnostic(line.slice(0, 400));
    }
  }

  /** Wraps a test body: when it fails, the nodes' log tails go to the diagnostics and the root is kept. */
  guarded(fn: (t: TestContext) => Promise<void>): (t: TestContext) => Promise<void> {
    return async (t) => {
      try {
        await fn(t);
      } catch (err) {
        this.markFailed();
        this.diagnose(t);
        throw err;
      }
    };
  }
}

function nodeArgs(opts: NodeOptions): { args?: readonly string[]; logLevel?: string; tlsCa?: string } {
  return { ...(opts.args ? { args: opts.args } : {}), ...(opts.logLevel ? { logLevel: opts.logLevel } : {}), ...(opts.tlsCa ? { tlsCa: opts.tlsCa } : {}) };
}
