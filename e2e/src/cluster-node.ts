// One real `wheelhouse master` or `wheelhouse replica` process of a replication test, restartable on
// the same data directory and port (MasterProcess always starts on a fresh directory and removes it
// on stop, so the replication tests need their own wrapper): log captured to `<root>/<name>.log`,
// readiness by a bounded poll (`/+status` for a master, `/+ready` for a replica), a graceful stop
// (SIGTERM, SIGKILL after a bound) and a `kill -9`. Every node of a test file lives under one temp
// root, removed by `ClusterNodes.cleanup()` unless a test failed or WH_E2E_KEEP is set.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ApiClient } from './api-client.js';
import { freePort, wheelhouseBin } from './master-process.js';
import { run } from './process-run.js';

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export type NodeRole = 'master' | 'replica';

export interface StopResult {
  /** SIGTERM was not enough: the node was SIGKILLed after STOP_TIMEOUT_MS. */
  readonly forced: boolean;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface NodeStartOptions {
  /** For a replica: also wait until `/+ready` answers 200 (the initial sync is done). Default true. */
  readonly waitReady?: boolean;
}

export class ClusterNode {
  private child: ChildProcess | undefined;
  private exit: Promise<StopResult> | undefined;
  private stopping = false;
  /** How the process ended when it ended without stop()/kill9(). */
  unexpectedExit: string | undefined;
  /** Port; 0 until the first start picked one. */
  port = 0;

  constructor(
    readonly name: string,
    readonly role: NodeRole,
    readonly datadir: string,
    readonly logPath: string,
    /** Extra CLI arguments after `--datadir D --host 127.0.0.1 --port N --log-level warn`. */
    private readonly extraArgs: readonly string[],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get api(): ApiClient {
    return new ApiClient(this.url);
  }

  /** The secret file `wheelhouse init` wrote (meaningful for a master's data directory). */
  get secretFile(): string {
    return join(this.datadir, 'secret');
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process (first start: on a free port; later starts: on the same port). */
  async start(opts: NodeStartOptions = {}): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const firstStart = this.port === 0;
    const attempts = firstStart ? 3 : 20;
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (firstStart || this.port === 0) this.port = await freePort();
      const logStart = this.log().length;
      this.spawnChild();
      try {
        await this.waitServing(opts.waitReady ?? true);
        return;
      } catch (err) {
        lastError = err instanceof Error ? err : new Error(String(err));
        await this.kill9();
        if (!/EADDRINUSE/.test(this.log().slice(logStart))) break;
        if (firstStart) this.port = 0;
        else await new Promise((r) => setTimeout(r, 250)); // the old socket is still being released
      }
    }
    throw new Error(`${lastError?.message ?? `${this.name} did not start`}\n--- ${this.logPath} ---\n${this.logTail(80)}`);
  }

  private spawnChild(): void {
    const args = [
      wheelhouseBin, this.role, '--datadir', this.datadir, '--host', '127.0.0.1', '--port', String(this.port),
      '--log-level', 'warn', ...this.extraArgs,
    ];
    const fd = openSync(this.logPath, 'a');
    const child = spawn(process.execPath, args, { stdio: ['ignore', fd, fd], env: { ...process.env } });
    closeSync(fd);
    live.add(child);
    this.child = child;
    this.stopping = false;
    this.exit = new Promise<StopResult>((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        if (!this.stopping) this.unexpectedExit = `${this.name} exited on its own: code ${String(code)}, signal ${String(signal)}, at ${new Date().toISOString()}`;
        resolve({ forced: false, code, signal });
      });
    });
  }

  private async waitServing(waitReady: boolean): Promise<void> {
    const path = this.role === 'replica' && waitReady ? '/+ready' : '/+status';
    const deadline = Date.now() + START_TIMEOUT_MS;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited before it answered ${path} (${this.unexpectedExit ?? 'stopped'})`);
      try {
        const res = await fetch(`${this.url}${path}`, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(2_000) });
        const text = await res.text();
        if (res.status === 200) return;
        last = `${path} answered ${res.status} ${text.slice(0, 300)}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${this.name} not serving ${path} after ${START_TIMEOUT_MS} ms on port ${this.port}: ${last}`);
  }

  /** SIGTERM, then SIGKILL when it has not exited after STOP_TIMEOUT_MS. */
  async stop(): Promise<StopResult> {
    const child = this.child;
    if (!child || !this.exit) return { forced: false, code: null, signal: null };
    this.stopping = true;
    if (!this.running) return this.exit;
    child.kill('SIGTERM');
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      child.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    const result = await this.exit;
    clearTimeout(timer);
    return { ...result, forced };
  }

  /** `kill -9`: no chance to flush or close anything. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || !this.exit) return;
    this.stopping = true;
    if (this.running) child.kill('SIGKILL');
    await this.exit;
  }

  /** The process id of the running node (for tests that signal it directly). */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  log(): string {
    return existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8') : '';
  }

  logTail(lines = 60): string {
    const all = this.log().split('\n');
    return all.slice(Math.max(0, all.length - lines - 1)).join('\n');
  }
}

/** The nodes of one test file under one temp root: creation, shutdown, log diagnostics, cleanup. */
export class ClusterNodes {
  readonly root: string;
  private readonly nodes: ClusterNode[] = [];
  private failed = false;

  constructor(label: string) {
    this.root = mkdtempSync(join(tmpdir(), `wh-e2e-${label}-`));
  }

  /** `wheelhouse init` a new data directory and start a master on it. */
  async startMaster(name: string, rootPassword: string): Promise<ClusterNode> {
    const datadir = join(this.root, name);
    const init = await run(process.execPath, [wheelhouseBin, 'init', '--datadir', datadir, '--root-password', rootPassword], {
      timeoutMs: 60_000,
      cwd: this.root,
    });
    if (init.code !== 0) throw new Error(`wheelhouse init failed: ${init.describe()}`);
    const node = new ClusterNode(name, 'master', datadir, join(this.root, `${name}.log`), []);
    this.nodes.push(node);
    await node.start();
    return node;
  }

  /** A replica of `master` on a new data directory, started (by default: until `/+ready` is 200). */
  async startReplica(name: string, master: ClusterNode, opts: NodeStartOptions = {}): Promise<ClusterNode> {
    const node = this.replica(name, master);
    await node.start(opts);
    return node;
  }

  /** A replica of `master`, not yet started. */
  replica(name: string, master: ClusterNode): ClusterNode {
    const node = new ClusterNode(name, 'replica', join(this.root, name), join(this.root, `${name}.log`), [
      '--master-url', master.url, '--secret-file', master.secretFile,
    ]);
    this.nodes.push(node);
    return node;
  }

  /** A directory for test files (venvs, distributions) under the root. */
  dir(name: string): string {
    return join(this.root, name);
  }

  markFailed(): void {
    this.failed = true;
  }

  /** Stops every node still running (SIGKILL: the tests that care stop their nodes themselves). */
  async killAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill9()));
  }

  async cleanup(): Promise<void> {
    await this.killAll();
    if (this.failed || process.env['WH_E2E_KEEP']) {
      process.stderr.write(`wheelhouse e2e: kept ${this.root} (node logs: ${this.root}/*.log)\n`);
    } else {
      rmSync(this.root, { recursive: true, force: true });
    }
  }

  /**
   * Wraps a test body: when it fails, each node's log tail goes to the test's diagnostics and the
   * temp root is kept.
   */
  guarded(fn: (t: TestContext) => Promise<void>): (t: TestContext) => Promise<void> {
    return async (t) => {
      try {
        await fn(t);
      } catch (err) {
        this.markFailed();
        for (const node of this.nodes) {
          if (node.unexpectedExit) t.diagnostic(node.unexpectedExit);
          t.diagnostic(`--- ${node.logPath} (last lines) ---`);
          for (const line of node.logTail(40).split('\n')) if (line.trim()) t.diagnostic(line.slice(0, 400));
        }
        throw err;
      }
    };
  }
}
