/**
 * One `wheelhouse` sub-command (export, import) run to completion as a child process, timed from
 * spawn to exit, with its peak RSS: under `/usr/bin/time -v` ("Maximum resident set size") when
 * that exists, else by reading /proc/PID/status VmHWM every 50 ms (the last read before the exit
 * may miss a final peak).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { wheelhouseBin } from '@wheelhouse/testing';

const GNU_TIME = '/usr/bin/time';

export interface CliRun {
  readonly code: number | null;
  readonly seconds: number;
  readonly peakRssBytes: number | undefined;
  /** user and system CPU seconds (only under /usr/bin/time). */
  readonly cpu: { user: number; system: number } | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

function vmHwm(pid: number | undefined): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `wheelhouse ...args` in `cwd`; `timeFile` is a scratch path for /usr/bin/time's report. */
export function runCliTimed(args: readonly string[], cwd: string, timeFile: string, timeoutMs = 600_000): Promise<CliRun> {
  const gnuTime = existsSync(GNU_TIME);
  const [cmd, argv] = gnuTime
    ? [GNU_TIME, ['-v', '-o', timeFile, process.execPath, wheelhouseBin, ...args]]
    : [process.execPath, [wheelhouseBin, ...args]];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-20_000)));
    let polled = 0;
    const poll = gnuTime
      ? undefined
      : setInterval(() => {
          const v = vmHwm(child.pid);
          if (v !== undefined && v > polled) polled = v;
        }, 50);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      reject(err);
    });
    child.once('close', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      let peakRssBytes: number | undefined = polled || undefined;
      let cpu: { user: number; system: number } | undefined;
      if (gnuTime && existsSync(timeFile)) {
        const report = readFileSync(timeFile, 'utf8');
        rmSync(timeFile, { force: true });
        const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(report)?.[1];
        if (kb) peakRssBytes = Number(kb) * 1024;
        const user = /User time \(seconds\): ([\d.]+)/.exec(report)?.[1];
        const sys = /System time \(seconds\): ([\d.]+)/.exec(report)?.[1];
        if (user && sys) cpu = { user: Number(user), system: Number(sys) };
        // /usr/bin/time reports the command's exit status as its own
      }
      resolve({ code, seconds, peakRssBytes, cpu, stdout, stderr });
    });
  });
}

/** Total bytes and number of regular files under `dir` (hard links counted at full size). */
export function treeSize(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        files++;
        bytes += statSync(p).size;
      }
    }
  };
  walk(dir);
  return { bytes, files };
}
