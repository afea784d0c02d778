/**
 * A real `wheelhouse master` for the benchmark: `init` into a fresh temp dir, start on a free port
 * at log level warn (stdout/stderr to a log file), ready when GET /+status answers 200; stopped with
 * SIGTERM (SIGKILL after 5 s) and its temp dir removed.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { cpuSeconds } from './process-cpu.js';

/** The repository root: this file is compiled to bench/dist/server-process.js. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const wheelhouseBin = join(repoRoot, 'bin', 'wheelhouse');

const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

export class ServerStartError extends Error {
  override readonly name = 'ServerStartError';
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

export function execNode(args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

export class ServerProcess {
  private exited = false;
  private stopping = false;
  /** How the server ended when it was not stopped by us, e.g. `exit code 1` or `signal SIGKILL`. */
  unexpectedExit: string | undefined;

  private constructor(
    readonly root: string,
    readonly logPath: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    child.once('exit', (code, signal) => {
      this.exited = true;
      if (!this.stopping) this.unexpectedExit = signal ? `signal ${signal}` : `exit code ${String(code)}`;
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The master's data directory (its secret file is `<datadir>/secret`). */
  get datadir(): string {
    return join(this.root, 'data');
  }

  /** Initialises a data dir with `rootPassword` and starts a master on it. */
  static async start(rootPassword: string): Promise<ServerProcess> {
    const root = mkdtempSync(join(tmpdir(), 'wh-bench-'));
    const datadir = join(root, 'data');
    const logPath = join(root, 'master.log');
    const init = await execNode([wheelhouseBin, 'init', '--datadir', datadir, '--root-password', rootPassword], root);
    if (init.code !== 0) {
      rmSync(root, { recursive: true, force: true });
      throw new ServerStartError(`wheelhouse init failed (exit ${init.code}):\n${init.output}`);
    }
    const port = await freePort();
    const fd = openSync(logPath, 'a');
    const child = spawn(
      process.execPath,
      [wheelhouseBin, 'master', '--datadir', datadir, '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warn'],
      { cwd: root, stdio: ['ignore', fd, fd] },
    );
    closeSync(fd);
    const server = new ServerProcess(root, logPath, port, child);
    try {
      await server.waitReady();
    } catch (err) {
      const log = server.log();
      await server.stop();
      throw new ServerStartError(`${(err as Error).message}\n--- master log ---\n${log}`);
    }
    return server;
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (this.exited) throw new ServerStartError(`wheelhouse master exited before it was ready (exit ${String(this.child.exitCode)})`);
      try {
        const res = await request(`${this.url}/+status`, { headers: { accept: 'application/json' }, headersTimeout: 1_000, bodyTimeout: 1_000 });
        await res.body.arrayBuffer();
        if (res.statusCode === 200) return;
        last = `GET /+status answered ${res.statusCode}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new ServerStartError(`wheelhouse master not ready after ${READY_TIMEOUT_MS} ms on port ${this.port}: ${last}`);
  }

  /** The server's `/+status` result. */
  async status(): Promise<Record<string, unknown>> {
    const res = await request(`${this.url}/+status`, { headers: { accept: 'application/json' } });
    const body = (await res.body.json()) as { result?: Record<string, unknown> };
    return body.result ?? {};
  }

  /** Resident set size in bytes: `/+status` memory-rss-bytes, else /proc/PID/status VmRSS. */
  async rssBytes(): Promise<number | undefined> {
    try {
      const rss = (await this.status())['memory-rss-bytes'];
      if (typeof rss === 'number') return rss;
    } catch {
      // fall through to /proc
    }
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(this.pid)}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  /** CPU seconds (user + system) the server has used, from /proc. */
  cpuSeconds(): number | undefined {
    return cpuSeconds(this.pid);
  }

  log(): string {
    return existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8') : '';
  }

  /** Stops the server and removes its temp dir. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (!this.exited && this.child.exitCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.root, { recursive: true, force: true });
  }

  /** Kills the server at once (process exit path). */
  killNow(): void {
    this.stopping = true;
    if (!this.exited) this.child.kill('SIGKILL');
    rmSync(this.root, { recursive: true, force: true });
  }
}
