// ONE harness for a real `bin/wheelhouse master|replica|proxy|cluster` child process: its
// stdout/stderr appended to a log file, a free loopback port on the first start (retried on
// EADDRINUSE) and the same port on every restart, readiness by a bounded poll, a graceful stop
// (SIGTERM, SIGKILL after a bound), `kill -9`, restart on the same data directory, RSS from
// /proc/PID/status, and an optional `ip netns exec NS` prefix (`ip` execs node in place, so the PID
// is the node's). Only processes started here are ever signalled, by their PID; the ones still
// alive when the test process exits are SIGKILLed.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch, type Dispatcher } from 'undici';
import { ApiClient } from './api-client.js';
import { freePort } from './free-port.js';
import { cpuSeconds } from './process-cpu.js';
import { run } from './process-run.js';
import { wheelhouseBin } from './repo-paths.js';
import { sleep } from './wait-for.js';

/** The `wheelhouse` sub-command a node runs. */
export type NodeRole = 'master' | 'replica' | 'proxy' | 'cluster';

const DEFAULT_READY_TIMEOUT_MS = 30_000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** What to run. */
export interface NodeSpec {
  /** Label for messages and the log file name (`master`, `replica1`, `proxy`…). */
  readonly name: string;
  readonly role: NodeRole;
  /** The log file (appended to across restarts). */
  readonly logPath: string;
  /** `--datadir` (master, replica, cluster); omitted for a proxy. */
  readonly datadir?: string;
  /** More arguments after `wheelhouse <role> [--datadir D]`, without --host / --port / --log-level. */
  readonly args?: readonly string[];
  /** Address to bind; default 127.0.0.1. */
  readonly host?: string;
  /** Fixed port (namespaces); default a free port picked at the first start. */
  readonly port?: number;
  /** Run inside this Linux network namespace (`ip netns exec NS node …`). */
  readonly netns?: string;
  /** `--log-level`; default `warn`. */
  readonly logLevel?: string;
  /** Working directory of the child; default the current one. */
  readonly cwd?: string;
  /** Bound of the SIGTERM → SIGKILL escalation in stop(), ms; default 10 000. */
  readonly stopTimeoutMs?: number;
  /**
   * The node serves HTTPS (its `args` carry `--tls-cert`/`--tls-key`): its URL is `https://…` and
   * the harness's own requests (readiness, status, `api`) trust this PEM CA file.
   */
  readonly tlsCa?: string;
}

/** How the process ended. */
export interface StopResult {
  /** SIGTERM was not enough: the node was SIGKILLed after the stop bound. */
  readonly forced: boolean;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StartOptions {
  /**
   * Wait for readiness (`GET /+ready` is 200 on a master or replica: a replica only after its
   * initial sync; `GET /+status` on a proxy, which has no /+ready of its own). `false`: wait only
   * until `/+status` answers 200 (serving). Default true.
   */
  readonly waitReady?: boolean;
  /** Readiness bound, ms; default 30 000. */
  readonly timeoutMs?: number;
}

/** One wheelhouse node process (see the module doc). Construct, then `start()`. */
export class WheelhouseProcess {
  private child: ChildProcess | undefined;
  private exit: Promise<StopResult> | undefined;
  private stopping = false;
  /** How the process ended when it ended without stop()/kill(); undefined otherwise. */
  unexpectedExit: string | undefined;
  /** The port; 0 until the first start picked one. */
  port: number;
  /** performance.now() at the latest spawn (benchmarks time catch-up from it). */
  spawnedAt = 0;
  private tlsAgent: Agent | undefined;

  constructor(readonly spec: NodeSpec) {
    this.port = spec.port ?? 0;
  }

  get name(): string {
    return this.spec.name;
  }

  get role(): NodeRole {
    return this.spec.role;
  }

  get host(): string {
    return this.spec.host ?? '127.0.0.1';
  }

  /** The data directory (throws for a node without one, i.e. a proxy). */
  get datadir(): string {
    if (this.spec.datadir === undefined) throw new Error(`${this.name} has no data directory`);
    return this.spec.datadir;
  }

  /** `<datadir>/secret`: the replication secret `wheelhouse init` wrote (a master's data directory). */
  get secretFile(): string {
    return `${this.datadir}/secret`;
  }

  get logPath(): string {
    return this.spec.logPath;
  }

  /** Base URL without trailing slash, e.g. `http://127.0.0.1:41234` (`https://` with {@link NodeSpec.tlsCa}). */
  get url(): string {
    return `${this.spec.tlsCa ? 'https' : 'http'}://${this.host}:${this.port}`;
  }

  /** The undici dispatcher that trusts the node's CA (undefined for a plain HTTP node). */
  get dispatcher(): Dispatcher | undefined {
    if (!this.spec.tlsCa) return undefined;
    this.tlsAgent ??= new Agent({ connect: { ca: readFileSync(this.spec.tlsCa) } });
    return this.tlsAgent;
  }

  /** Anonymous API client for this node; `.as(credentials)` for others. */
  get api(): ApiClient {
    return new ApiClient(this.url, undefined, this.dispatcher);
  }

  /** `fetch` of a path of this node (trusting its CA). */
  private fetchPath(path: string, timeoutMs: number): Promise<{ status: number; text(): Promise<string> }> {
    const init = { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) };
    const dispatcher = this.dispatcher;
    return dispatcher ? undiciFetch(`${this.url}${path}`, { ...init, dispatcher }) : fetch(`${this.url}${path}`, init);
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** PID of the running process; undefined when it is not running. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /**
   * Starts the process and waits for it (see {@link StartOptions}). The first start picks a free
   * port and retries on EADDRINUSE with another; a restart keeps the port and retries while the old
   * socket is released.
   * @throws Error with the log tail when the node exits or is not ready within the bound.
   */
  async start(opts: StartOptions = {}): Promise<this> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const pick = this.port === 0;
    const attempts = this.spec.port !== undefined ? 1 : pick ? 3 : 20;
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (pick) this.port = await freePort(this.host);
      const logStart = this.log().length;
      this.spawn();
      try {
        await this.waitReady(opts);
        return this;
      } catch (err) {
        lastError = err instanceof Error ? err : new Error(String(err));
        await this.kill('SIGKILL');
        if (!/EADDRINUSE/.test(this.log().slice(logStart))) break;
        if (!pick) await sleep(250);
      }
    }
    throw new Error(`${lastError?.message ?? `${this.name} did not start`}\n--- ${this.logPath} ---\n${this.logTail(80)}`);
  }

  /** Starts the same command again (same data directory, same port) and waits as start() does. */
  async restart(opts: StartOptions = {}): Promise<this> {
    if (this.running) throw new Error(`${this.name} is still running`);
    return this.start(opts);
  }

  /**
   * Spawns the process without waiting for it (picking a free port first if none is set); use
   * {@link waitReady} afterwards. For benchmarks that time a node from its spawn.
   */
  async spawnNoWait(): Promise<this> {
    if (this.running) throw new Error(`${this.name} is already running`);
    if (this.port === 0) this.port = await freePort(this.host);
    this.spawn();
    return this;
  }

  /** The full command line: `[command, args]`. */
  commandLine(): [string, string[]] {
    const nodeArgs = [wheelhouseBin, this.spec.role];
    if (this.spec.datadir !== undefined) nodeArgs.push('--datadir', this.spec.datadir);
    nodeArgs.push('--host', this.host, '--port', String(this.port), '--log-level', this.spec.logLevel ?? 'warn', ...(this.spec.args ?? []));
    return this.spec.netns ? ['ip', ['netns', 'exec', this.spec.netns, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  }

  private spawn(): void {
    const [cmd, args] = this.commandLine();
    const fd = openSync(this.logPath, 'a');
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: { ...process.env }, ...(this.spec.cwd ? { cwd: this.spec.cwd } : {}) });
    closeSync(fd);
    live.add(child);
    this.child = child;
    this.stopping = false;
    this.spawnedAt = performance.now();
    this.exit = new Promise<StopResult>((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        if (!this.stopping && this.child === child) {
          this.unexpectedExit = `${this.name} exited on its own: code ${String(code)}, signal ${String(signal)}, at ${new Date().toISOString()}`;
        }
        resolve({ forced: false, code, signal });
      });
    });
  }

  /**
   * Polls the readiness path every 50 ms (see {@link StartOptions}).
   * @throws Error when the process exits first or after `timeoutMs`.
   */
  async waitReady(opts: StartOptions = {}): Promise<void> {
    const path = this.spec.role === 'proxy' || opts.waitReady === false ? '/+status' : '/+ready';
    const timeoutMs = opts.timeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited before it answered ${path} (${this.unexpectedExit ?? 'stopped'})`);
      try {
        const res = await this.fetchPath(path, 2_000);
        const text = await res.text();
        if (res.status === 200) return;
        last = `${path} answered ${res.status}: ${text.slice(0, 300)}`;
      } catch (err) {
        last = err instanceof Error ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}` : String(err);
      }
      await sleep(50);
    }
    throw new Error(`${this.name} not ready (${path}) after ${timeoutMs} ms at ${this.url}: ${last}`);
  }

  /** The node's `/+status` result object. @throws on a non-200 answer. */
  async status(timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const res = await this.fetchPath('/+status', timeoutMs);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET ${this.name} /+status: ${res.status} ${text.slice(0, 300)}`);
    return ((JSON.parse(text) as { result?: Record<string, unknown> }).result ?? {});
  }

  /** Graceful stop: SIGTERM, then SIGKILL when it has not exited after the stop bound. */
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
    }, this.spec.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
    const result = await this.exit;
    clearTimeout(timer);
    return { ...result, forced };
  }

  /**
   * Sends `signal` on purpose (not reported as an unexpected exit) and waits for the exit; after
   * a signal other than SIGKILL, SIGKILL follows when it has not exited within the stop bound.
   */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || !this.exit) return;
    this.stopping = true;
    if (!this.running) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), this.spec.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
    await this.exit;
    clearTimeout(timer);
  }

  /** `kill -9`: no chance to flush or close anything. */
  kill9(): Promise<void> {
    return this.kill('SIGKILL');
  }

  /** SIGKILL without waiting (for a process-exit or signal handler). */
  killNow(): void {
    this.stopping = true;
    if (this.running) this.child?.kill('SIGKILL');
  }

  /** The whole log so far. */
  log(): string {
    return existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8') : '';
  }

  /** The last `lines` lines of the log. */
  logTail(lines = 60): string {
    const all = this.log().split('\n');
    return all.slice(Math.max(0, all.length - lines - 1)).join('\n');
  }

  /** A `/proc/PID/status` size field in bytes (`VmRSS`, `VmHWM` = peak RSS); undefined when not running. */
  procBytes(field: 'VmRSS' | 'VmHWM'): number | undefined {
    const pid = this.pid;
    if (pid === undefined) return undefined;
    try {
      const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  /** Resident set size, bytes, from /proc/PID/status; undefined when not running. */
  rssBytes(): number | undefined {
    return this.procBytes('VmRSS');
  }

  /** CPU seconds (user + system) the process has used, from /proc/PID/stat; undefined when not running. */
  cpuSeconds(): number | undefined {
    return cpuSeconds(this.pid);
  }
}

/**
 * `wheelhouse init --datadir D [--root-password P]` (bounded: 60 s).
 * @throws Error with the command's output when it fails.
 */
export async function wheelhouseInit(datadir: string, rootPassword?: string, cwd?: string): Promise<void> {
  const args = [wheelhouseBin, 'init', '--datadir', datadir];
  if (rootPassword !== undefined) args.push('--root-password', rootPassword);
  const r = await run(process.execPath, args, { timeoutMs: 60_000, ...(cwd !== undefined ? { cwd } : {}) });
  if (r.code !== 0) throw new Error(`wheelhouse init failed: ${r.describe()}`);
}
