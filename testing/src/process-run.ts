// Runs a child program with execFile and a bounded timeout, and never rejects on a non-zero exit:
// the e2e tests assert on the exit code and print stdout/stderr when it is not what they expect.
import { execFile } from 'node:child_process';

export interface RunOptions {
  readonly timeoutMs: number;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  readonly command: string;
  /** Exit code; null when killed by a signal (the timeout included). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** One line: command, exit code or signal. */
  summary(): string;
  /** The summary plus stdout and stderr, for assertion messages. */
  describe(): string;
}

export function run(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const command = [cmd, ...args].map((a) => (/[\s'"]/.test(a) ? JSON.stringify(a) : a)).join(' ');
  return new Promise((resolve) => {
    const started = Date.now();
    const execOpts: Parameters<typeof execFile>[2] = {
      timeout: opts.timeoutMs,
      killSignal: 'SIGKILL',
      maxBuffer: 64 * 1024 * 1024,
      encoding: 'utf8',
    };
    if (opts.cwd !== undefined) execOpts.cwd = opts.cwd;
    if (opts.env !== undefined) execOpts.env = opts.env;
    execFile(cmd, args, execOpts, (error, stdout, stderr) => {
      const err = error as (NodeJS.ErrnoException & { code?: number | string; signal?: NodeJS.Signals | null; killed?: boolean }) | null;
      let code: number | null = 0;
      let signal: NodeJS.Signals | null = null;
      let spawnError = '';
      if (err) {
        if (typeof err.code === 'number') code = err.code;
        else {
          code = null;
          if (typeof err.code === 'string') spawnError = `${err.code}: ${err.message}`;
        }
        signal = err.signal ?? null;
      }
      const timedOut = err !== null && signal !== null && Date.now() - started >= opts.timeoutMs - 50;
      const out = String(stdout);
      const errText = String(stderr) + (spawnError ? `\n${spawnError}` : '');
      const summary = (): string =>
        `${command} → ${timedOut ? `timed out after ${opts.timeoutMs} ms` : signal ? `signal ${signal}` : `exit ${String(code)}`}`;
      resolve({
        command,
        code,
        signal,
        timedOut,
        stdout: out,
        stderr: errText,
        summary,
        describe: () => `${summary()}\n--- stdout ---\n${out.slice(-6000)}\n--- stderr ---\n${errText.slice(-6000)}`,
      });
    });
  });
}
