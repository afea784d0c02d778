/**
 * Any `wheelhouse` sub-command (master on an existing data dir, replica, proxy) as a child process
 * of the benchmark: stdout/stderr to a log file, a free port on 127.0.0.1, readiness polled on a
 * path until it answers 200. Stopped with SIGTERM (SIGKILL after 5 s) or killed with any signal on
 * purpose (failover); memory read from /proc/PID/status.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { request } from 'undici';
import { cpuSeconds } from './process-cpu.js';
import { wheelhouseBin } from './server-process.js';

const STOP_TIMEOUT_MS = 5_000;

export interface NodeSpec {
  /** Short name for messages, e.g. `replica`. */
  readonly name: string;
  /** Arguments after `bin/wheelhouse`. */
  readonly args: readonly string[];
  readonly port: number;
  readonly cwd: string;
  readonly logPath: string;
}

export class NodeProcess {
  private exited = false;
  private stopping = false;
  /** How the process ended when we did not end it, e.g. `exit code 1`. */
  unexpectedExit: string | undefined;
  /** performance.now() when the process was spawned. */
  readonly spawnedAt: number;

  private constructor(
    readonly spec: NodeSpec,
    private readonly child: ChildProcess,
  ) {
    this.spawnedAt = performance.now();
    child.once('exit', (code, signal) => {
      this.exited = true;
      if (!this.stopping) this.unexpectedExit = signal ? `signal ${signal}` : `exit code ${String(code)}`;
    });
  }

  /** Spawns the process; does not wait for it (see `waitFor`). */
  static spawn(spec: NodeSpec): NodeProcess {
    const fd = openSync(spec.logPath, 'a');
    const child = spawn(process.execPath, [wheelhouseBin, ...spec.args], { cwd: spec.cwd, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    return new NodeProcess(spec, child);
  }

  /** Spawns the process and waits until GET `readyPath` answers 200. */
  static async start(spec: NodeSpec, readyPath: string, timeoutMs = 30_000): Promise<NodeProcess> {
    const node = NodeProcess.spawn(spec);
    try {
      await node.waitFor(readyPath, timeoutMs);
    } catch (err) {
      await node.stop();
      throw new Error(`${(err as Error).message}\n--- ${spec.name} log ---\n${node.log().slice(-3000)}`);
    }
    return node;
  }

  get url(): string {
    return `http://127.0.0.1:${this.spec.port}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.exited;
  }

  /** Polls GET `path` every 50 ms until it answers 200. */
  async waitFor(path: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`${this.spec.name} exited before it was ready (${this.unexpectedExit ?? 'stopped'})`);
      try {
        const res = await request(`${this.url}${path}`, { headers: { accept: 'application/json' }, headersTimeout: 2_000, bodyTimeout: 2_000 });
        const text = await res.body.text();
        if (res.statusCode === 200) return;
        last = `GET ${path} answered ${res.statusCode}: ${text.slice(0, 200)}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${this.spec.name} not ready after ${timeoutMs} ms on port ${this.spec.port}: ${last}`);
  }

  /** The node's `/+status` result. */
  async status(): Promise<Record<string, unknown>> {
    const res = await request(`${this.url}/+status`, { headers: { accept: 'application/json' }, headersTimeout: 5_000, bodyTimeout: 5_000 });
    const body = (await res.body.json()) as { result?: Record<string, unknown> };
    return body.result ?? {};
  }

  /** A `/proc/PID/status` field in bytes (`VmRSS`, `VmHWM`), undefined once gone. */
  procBytes(field: 'VmRSS' | 'VmHWM'): number | undefined {
    try {
      const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${String(this.pid)}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  /** For runLoad: RSS and CPU seconds of this process. */
  async rssBytes(): Promise<number | undefined> {
    return this.procBytes('VmRSS');
  }

  cpuSeconds(): number | undefined {
    return cpuSeconds(this.pid);
  }

  log(): string {
    return existsSync(this.spec.logPath) ? readFileSync(this.spec.logPath, 'utf8') : '';
  }

  /** Sends `signal` on purpose (not reported as an unexpected exit); resolves once it exited. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    this.stopping = true;
    if (this.exited || this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill(signal);
    await exited;
  }

  /** SIGTERM, SIGKILL after 5 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.exited || this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  /** SIGKILL without waiting (process exit path). */
  killNow(): void {
    this.stopping = true;
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

/** Log lines of a node at level warn, except its start-up banner, as report notes. */
export function nodeLogNotes(name: string, log: string): string[] {
  const lines = log.split('\n').filter((l) => l.trim() !== '' && !/^(Wheelhouse (master|replica) |\s+pip install )/.test(l));
  if (lines.length === 0) return [];
  const shown = lines.slice(0, 5).map((l) => `  \`${l.slice(0, 300)}\``);
  return [`${name} log (level warn) has ${lines.length} line(s); first ${shown.length}:\n${shown.join('\n')}`];
}
