// Starts and stops a real `wheelhouse master` process for an e2e test file: a fresh data directory
// under os.tmpdir(), a free port, stdout/stderr captured to a log file in the test's temp dir, and
// readiness by a bounded poll of GET /+status. Servers are killed in `after` hooks and, as a last
// resort, when the test process exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { ApiClient } from './api-client.js';
import { run } from './process-run.js';

/** The repository root: this file is compiled to e2e/dist/master-process.js. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** The CLI under test; WHEELHOUSE_BIN overrides it (to run the suite against another build). */
export const wheelhouseBin = process.env['WHEELHOUSE_BIN'] ?? join(repoRoot, 'bin', 'wheelhouse');

const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A port that was free a moment ago (bind to port 0 on 127.0.0.1, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('no port'));
        return;
      }
      srv.close(() => resolve(addr.port));
    });
  });
}

export interface MasterOptions {
  /** Password given to `wheelhouse init --root-password`. */
  readonly rootPassword?: string;
  /** Short label used in the temp dir name. */
  readonly label?: string;
}

export class MasterProcess {
  private failed = false;
  private exited = false;
  private stopping = false;
  /** How the process ended when it ended before stop() (a crash, or a signal from outside). */
  private unexpectedExit: string | undefined;

  private constructor(
    /** The test's temp dir: holds `data/` and `master.log`. */
    readonly root: string,
    readonly datadir: string,
    readonly logPath: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    child.once('exit', (code, signal) => {
      this.exited = true;
      live.delete(child);
      if (!this.stopping) this.unexpectedExit = `exit code ${String(code)}, signal ${String(signal)}, at ${new Date().toISOString()}`;
    });
  }

  /** Base URL without trailing slash, e.g. http://127.0.0.1:41234 */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Anonymous API client for this server; use `.as(credentials)` for others. */
  get api(): ApiClient {
    return new ApiClient(this.url);
  }

  static async start(opts: MasterOptions = {}): Promise<MasterProcess> {
    const root = mkdtempSync(join(tmpdir(), `wh-e2e-${opts.label ?? 'master'}-`));
    const datadir = join(root, 'data');
    const logPath = join(root, 'master.log');
    const initArgs = [wheelhouseBin, 'init', '--datadir', datadir];
    if (opts.rootPassword !== undefined) initArgs.push('--root-password', opts.rootPassword);
    const init = await run(process.execPath, initArgs, { timeoutMs: 60_000, cwd: root });
    if (init.code !== 0) {
      throw new Error(`wheelhouse init failed (${init.summary()}):\n${init.stdout}\n${init.stderr}`);
    }
    let lastError: Error | undefined;
    // A port picked free can be taken by a parallel test file before the master binds it: retry.
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const fd = openSync(logPath, 'a');
      const child = spawn(
        process.execPath,
        [wheelhouseBin, 'master', '--datadir', datadir, '--host', '127.0.0.1', '--port', String(port)],
        { cwd: root, stdio: ['ignore', fd, fd], env: { ...process.env } },
      );
      closeSync(fd);
      live.add(child);
      const master = new MasterProcess(root, datadir, logPath, port, child);
      try {
        await master.waitReady();
        return master;
      } catch (err) {
        lastError = err instanceof Error ? err : new Error(String(err));
        await master.kill();
        if (!/EADDRINUSE/.test(master.log())) break;
      }
    }
    throw new Error(`${lastError?.message ?? 'master did not start'}\n--- ${logPath} ---\n${tail(readLog(logPath), 150)}`);
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`wheelhouse master exited before it was ready (exit ${String(this.child.exitCode)}, signal ${String(this.child.signalCode)})`);
      try {
        const res = await fetch(`${this.url}/+status`, {
          headers: { Accept: 'application/json' },
          signal: AbortSignal.timeout(1_000),
        });
        await res.arrayBuffer();
        if (res.status === 200) return;
        last = `GET /+status answered ${res.status}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`wheelhouse master not ready after ${READY_TIMEOUT_MS} ms on port ${this.port}: ${last}`);
  }

  /** The whole captured stdout/stderr of the master so far. */
  log(): string {
    return readLog(this.logPath);
  }

  logTail(lines = 120): string {
    return tail(this.log(), lines);
  }

  /** Keep the temp dir after stop() (called when a test that used this server failed). */
  markFailed(): void {
    this.failed = true;
  }

  /** Set when the master ended before stop(): tests that fail afterwards say so. */
  get exitedEarly(): string | undefined {
    return this.unexpectedExit;
  }

  private async kill(): Promise<void> {
    this.stopping = true;
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  /** Stops the server (SIGTERM, SIGKILL after 5 s) and removes its temp dir unless a test failed. */
  async stop(): Promise<void> {
    await this.kill();
    if (this.failed || process.env['WH_E2E_KEEP']) {
      process.stderr.write(`wheelhouse e2e: kept ${this.root} (server log: ${this.logPath})\n`);
    } else {
      rmSync(this.root, { recursive: true, force: true });
    }
  }
}

function readLog(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

function tail(text: string, lines: number): string {
  const all = text.split('\n');
  return all.slice(Math.max(0, all.length - lines - 1)).join('\n');
}

/**
 * Wraps a test body: when it fails, the master's log tail is attached to the test's output and the
 * server's temp dir is kept for inspection.
 */
export function withServerLog(
  getMaster: () => MasterProcess | undefined,
  fn: (t: TestContext) => Promise<void>,
): (t: TestContext) => Promise<void> {
  return async (t) => {
    try {
      await fn(t);
    } catch (err) {
      const master = getMaster();
      if (master) {
        master.markFailed();
        if (master.exitedEarly) {
          t.diagnostic(`the master process ended before the test finished (${master.exitedEarly}): a crash, or a signal from another process`);
        }
        // One diagnostic per line: the TAP reporter escapes newlines inside a single one.
        t.diagnostic(`server log ${master.logPath} (last lines):`);
        for (const line of master.logTail().split('\n')) if (line.trim()) t.diagnostic(line);
      }
      throw err;
    }
  };
}
