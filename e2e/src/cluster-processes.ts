// Real `wheelhouse master`, `replica` and `proxy` processes for the proxy / high-availability e2e
// tests: each node is one child process with its log captured to a file, readiness by a bounded poll
// (`/+ready` on master and replica, `/+status` on the proxy), SIGKILL and restart on the same data
// directory and port, and RSS sampling from /proc/PID/status. A node can run inside a Linux network
// namespace (`ip netns exec NS node bin/wheelhouse …`: `ip` execs node in place, so the PID is the
// node's). Only processes started here are ever signalled, by their PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ApiClient, describeResponse, resultOf } from './api-client.js';
import { freePort, wheelhouseBin } from './master-process.js';
import { run } from './process-run.js';

export type NodeRole = 'master' | 'replica' | 'proxy';

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface NodeSpec {
  /** Label for logs and messages (`master`, `replicaA`, `proxy`…). */
  readonly name: string;
  readonly role: NodeRole;
  /** Directory for the node's log file. */
  readonly logDir: string;
  /** Arguments after `wheelhouse <role>`, without --host / --port / --log-level. */
  readonly args: readonly string[];
  /** Address to bind (default 127.0.0.1). */
  readonly host?: string;
  /** Fixed port (namespaces); default: a free loopback port, retried on EADDRINUSE. */
  readonly port?: number;
  /** Run inside this network namespace. */
  readonly netns?: string;
  readonly logLevel?: string;
}

/** One wheelhouse node process (see module doc). */
export class NodeProcess {
  private child: ChildProcess | undefined;
  private exitedAt: string | undefined;
  private expectedExit = false;
  readonly logPath: string;
  readonly host: string;
  private constructor(
    readonly spec: NodeSpec,
    readonly port: number,
  ) {
    this.host = spec.host ?? '127.0.0.1';
    this.logPath = join(spec.logDir, `${spec.name}.log`);
  }

  get name(): string {
    return this.spec.name;
  }

  /** Base URL without trailing slash. */
  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  get api(): ApiClient {
    return new ApiClient(this.url);
  }

  /** PID of the running process (undefined when it is not running). */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Set when the process ended without the test asking for it. */
  get unexpectedExit(): string | undefined {
    return this.exitedAt;
  }

  /** Starts the node and waits until it is ready. */
  static async start(spec: NodeSpec): Promise<NodeProcess> {
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      const node = new NodeProcess(spec, spec.port ?? (await freePort()));
      try {
        await node.spawnAndWait();
        return node;
      } catch (err) {
        lastError = err instanceof Error ? err : new Error(String(err));
        await node.kill('SIGKILL');
        if (spec.port !== undefined || !/EADDRINUSE/.test(node.log())) break;
      }
    }
    throw lastError ?? new Error(`${spec.name} did not start`);
  }

  private spawnAndWait(): Promise<void> {
    const nodeArgs = [
      wheelhouseBin, this.spec.role, ...this.spec.args,
      '--host', this.host, '--port', String(this.port), '--log-level', this.spec.logLevel ?? 'warn',
    ];
    const [cmd, args] = this.spec.netns
      ? ['ip', ['netns', 'exec', this.spec.netns, process.execPath, ...nodeArgs]]
      : [process.execPath, nodeArgs];
    const fd = openSync(this.logPath, 'a');
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: { ...process.env } });
    closeSync(fd);
    this.child = child;
    this.expectedExit = false;
    live.add(child);
    child.once('exit', (code, signal) => {
      live.delete(child);
      if (!this.expectedExit && this.child === child) {
        this.exitedAt = `exit code ${String(code)}, signal ${String(signal)}, at ${new Date().toISOString()}`;
      }
    });
    return this.waitReady();
  }

  /** Polls the readiness URL (bounded). */
  async waitReady(timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    const path = this.spec.role === 'proxy' ? '/+status' : '/+ready';
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (!this.running) {
        throw new Error(`${this.name} exited before it was ready (${String(this.child?.exitCode)}/${String(this.child?.signalCode)})\n--- ${this.logPath} ---\n${this.logTail(60)}`);
      }
      try {
        const res = await fetch(`${this.url}${path}`, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(1_000) });
        const text = await res.text();
        if (res.status === 200) return;
        last = `${path} answered ${res.status}: ${text.slice(0, 200)}`;
      } catch (err) {
        last = err instanceof Error ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}` : String(err);
      }
      await sleep(100);
    }
    throw new Error(`${this.name} not ready after ${timeoutMs} ms at ${this.url}: ${last}\n--- ${this.logPath} ---\n${this.logTail(60)}`);
  }

  /** Sends `signal` to this node's PID and waits for it to exit (SIGKILL after 5 s). */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.expectedExit = true;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  /** Starts the same command again (same data directory, same port) and waits until ready. */
  async restart(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is still running`);
    await this.spawnAndWait();
  }

  log(): string {
    return existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8') : '';
  }

  logTail(lines = 80): string {
    const all = this.log().split('\n');
    return all.slice(Math.max(0, all.length - lines - 1)).join('\n');
  }

  /** Resident set size in bytes from /proc/PID/status (undefined when not running). */
  rssBytes(): number | undefined {
    const pid = this.pid;
    if (pid === undefined) return undefined;
    try {
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : undefined;
    } catch {
      return undefined;
    }
  }
}

/** One backend as the proxy's `/+status` lists it. */
export interface ProxyBackendStatus {
  readonly name: string;
  readonly url: string;
  readonly role: 'master' | 'replica';
  readonly usable: boolean;
  readonly up: boolean;
  readonly draining: boolean;
  readonly ejected: boolean;
  readonly serial: number;
  readonly 'last-error': string | null;
}

export async function proxyBackends(proxyUrl: string): Promise<ProxyBackendStatus[]> {
  const res = await new ApiClient(proxyUrl).get('/+status', { timeoutMs: 5_000 });
  if (res.status !== 200) throw new Error(`GET ${proxyUrl}/+status: ${describeResponse(res)}`);
  return resultOf<{ backends: ProxyBackendStatus[] }>(res).backends;
}

/** Polls until `pred` holds (bounded); returns how long it took, ms. Throws with `what` on timeout. */
export async function waitFor(what: string, pred: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 100): Promise<number> {
  const started = Date.now();
  let lastErr = '';
  while (Date.now() - started < timeoutMs) {
    try {
      if (await pred()) return Date.now() - started;
    } catch (err) {
      lastErr = err instanceof Error ? err.message : String(err);
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? ` (last error: ${lastErr})` : ''}`);
}

/** Waits until the proxy's /+status shows `usable` for each named backend as given. */
export function waitProxyBackends(proxyUrl: string, want: Readonly<Record<string, boolean>>, timeoutMs = 20_000): Promise<number> {
  return waitFor(
    `proxy backends ${JSON.stringify(want)}`,
    async () => {
      const list = await proxyBackends(proxyUrl);
      return Object.entries(want).every(([name, usable]) => list.find((b) => b.name === name)?.usable === usable);
    },
    timeoutMs,
    50,
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The serial a node reports at `/+status` (`result.serial`), or undefined if it does not answer. */
export async function nodeSerial(url: string): Promise<number | undefined> {
  try {
    return await new ApiClient(url).statusSerial();
  } catch {
    return undefined;
  }
}

export interface LoopbackClusterOptions {
  readonly label: string;
  readonly rootPassword: string;
}

/**
 * The deployment's topology on loopback: host A's master (`master`, backend name `master`) and
 * replica (`replicaA`, the proxy's `replica1`), host B's replica (`replicaB`, `replica2`), and the
 * proxy in front — as docker-compose.yml describes it, with every node on 127.0.0.1.
 */
export class LoopbackCluster {
  private constructor(
    readonly root: string,
    readonly master: NodeProcess,
    readonly replicaA: NodeProcess,
    readonly replicaB: NodeProcess,
    readonly proxy: NodeProcess,
  ) {}

  get nodes(): NodeProcess[] {
    return [this.master, this.replicaA, this.replicaB, this.proxy];
  }

  static async start(opts: LoopbackClusterOptions): Promise<LoopbackCluster> {
    const root = mkdtempSync(join(tmpdir(), `wh-e2e-${opts.label}-`));
    const logDir = join(root, 'logs');
    mkdirSync(logDir);
    const masterDir = join(root, 'master');
    const init = await run(process.execPath, [wheelhouseBin, 'init', '--datadir', masterDir, '--root-password', opts.rootPassword], { timeoutMs: 60_000, cwd: root });
    if (init.code !== 0) throw new Error(`wheelhouse init failed: ${init.describe()}`);
    const started: NodeProcess[] = [];
    try {
      const master = await NodeProcess.start({ name: 'master', role: 'master', logDir, args: ['--datadir', masterDir] });
      started.push(master);
      const replica = (name: string): Promise<NodeProcess> =>
        NodeProcess.start({ name, role: 'replica', logDir, args: ['--datadir', join(root, name), '--master-url', master.url, '--secret-file', join(masterDir, 'secret')] });
      const [replicaA, replicaB] = await Promise.all([replica('replicaA'), replica('replicaB')]);
      started.push(replicaA, replicaB);
      const proxy = await NodeProcess.start({
        name: 'proxy', role: 'proxy', logDir,
        args: ['--master', master.url, '--replica', replicaA.url, '--replica', replicaB.url],
      });
      started.push(proxy);
      await waitProxyBackends(proxy.url, { master: true, replica1: true, replica2: true });
      return new LoopbackCluster(root, master, replicaA, replicaB, proxy);
    } catch (err) {
      for (const n of started) await n.kill('SIGKILL');
      throw err;
    }
  }

  /** Stops all nodes (SIGTERM, then SIGKILL) and removes the temp dir unless `keep`. */
  async stop(keep = false): Promise<void> {
    for (const n of [this.proxy, this.replicaB, this.replicaA, this.master]) await n.kill('SIGTERM');
    if (keep || process.env['WH_E2E_KEEP']) process.stderr.write(`wheelhouse e2e: kept ${this.root}\n`);
    else rmSync(this.root, { recursive: true, force: true });
  }

  /** Attaches every node's log tail to the test output (for a failing test). */
  diagnose(t: TestContext, lines = 40): void {
    for (const n of this.nodes) {
      if (n.unexpectedExit) t.diagnostic(`${n.name} ended unexpectedly: ${n.unexpectedExit}`);
      t.diagnostic(`--- ${n.logPath} (last lines) ---`);
      for (const line of n.logTail(lines).split('\n')) if (line.trim()) t.diagnostic(line);
    }
  }
}

/** Runs `fn`; on failure attaches the cluster's logs and keeps its temp dir. */
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

/** Samples a set of processes' RSS every `intervalMs` until stopped; keeps the peak per name. */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  readonly peak = new Map<string, number>();
  readonly baseline = new Map<string, number>();
  samples = 0;
  constructor(private readonly nodes: readonly NodeProcess[], private readonly intervalMs = 100) {
    for (const n of nodes) {
      const rss = n.rssBytes();
      if (rss !== undefined) {
        this.baseline.set(n.name, rss);
        this.peak.set(n.name, rss);
      }
    }
  }

  start(): this {
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  sample(): void {
    this.samples++;
    for (const n of this.nodes) {
      const rss = n.rssBytes();
      if (rss !== undefined && rss > (this.peak.get(n.name) ?? 0)) this.peak.set(n.name, rss);
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.sample();
  }

  growthBytes(name: string): number {
    return (this.peak.get(name) ?? 0) - (this.baseline.get(name) ?? 0);
  }

  describe(): string {
    const mb = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MB`;
    return [...this.baseline.keys()].map((k) => `${k}: baseline ${mb(this.baseline.get(k) ?? 0)}, peak ${mb(this.peak.get(k) ?? 0)}`).join('; ');
  }
}
