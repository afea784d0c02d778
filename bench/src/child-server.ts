/**
 * A reference server of the perf part run as a child process (`bare-static-server.js`,
 * `bare-passthrough.js`): started with its arguments, its port read from the first line of its
 * stdout, its CPU seconds readable from /proc (a `CpuProbe`), stopped with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpuSeconds } from '@wheelhouse/testing';

/** A running reference server. */
export class ChildServer {
  private constructor(
    private readonly child: ChildProcess,
    /** `http://127.0.0.1:<port>` */
    readonly url: string,
  ) {}

  /** Starts `bench/dist/<script>` with `args`. @throws when it exits or prints no port within 10 s. */
  static async start(script: string, args: readonly string[]): Promise<ChildServer> {
    const child = spawn(process.execPath, [fileURLToPath(new URL(`./${script}`, import.meta.url)), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        if (out.includes('\n')) resolve(Number(out.trim()));
      });
      child.once('exit', (code) => reject(new Error(`${script} exited (${String(code)})`)));
      setTimeout(() => reject(new Error(`${script} printed no port in 10 s`)), 10_000).unref();
    }).catch((err: unknown) => {
      child.kill('SIGKILL');
      throw err;
    });
    return new ChildServer(child, `http://127.0.0.1:${port}`);
  }

  /** The child's process id (undefined once it exited). */
  get pid(): number | undefined {
    return this.child.exitCode === null ? this.child.pid : undefined;
  }

  cpuSeconds(): number | undefined {
    return cpuSeconds(this.child.pid);
  }

  /** SIGTERM; resolves when it exited (SIGKILL after 5 s). */
  async stop(): Promise<void> {
    await stopChild(this.child, 'SIGTERM', 5_000);
  }
}

/**
 * Sends `signal` to a benchmark's child process and resolves once it exited; SIGKILL after
 * `graceMs` (ms). At once when it already exited.
 */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
