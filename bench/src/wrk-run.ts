/**
 * One closed-loop load measurement for the perf part: wrk (Debian `wrk`; `apt-get install -y wrk`)
 * with 1 thread and N keep-alive connections for D seconds, or autocannon (already a bench
 * dependency) when wrk is absent. Returns requests/s, bytes/s on the wire and the CPU seconds the
 * serving processes used during the run (so µs per request do not depend on how the cores were
 * shared with the load generator).
 */
import { execFile, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

export interface PerfLoad {
  readonly connections: number;
  readonly durationSeconds: number;
}

export interface PerfOutcome {
  readonly requestsPerSecond: number;
  /** Bytes per second received (headers and body), as the generator reports it. */
  readonly bytesPerSecond: number;
  readonly requests: number;
  /** Non-2xx/3xx answers plus socket errors and timeouts. */
  readonly errors: number;
  /** CPU µs per request for each probed process, by label. */
  readonly cpuMicros: Record<string, number | undefined>;
  readonly note: string;
}

/** Something whose CPU seconds can be read (WheelhouseProcess, NginxServer). */
export interface CpuProbe {
  cpuSeconds(): number | undefined;
}

export const wrkAvailable: boolean = spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;

const autocannonCli = createRequire(import.meta.url).resolve('autocannon');

function exec(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} failed: ${err.message}\n${stderr.slice(0, 300)}`));
      else resolve(stdout);
    });
  });
}

const UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

/** Parses wrk's text summary (`Requests/sec:`, `Transfer/sec:`, `N requests in`, error lines). */
export function parseWrk(out: string): { requestsPerSecond: number; bytesPerSecond: number; requests: number; errors: number } {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const t = /Transfer\/sec:\s+([\d.]+)([KMGT]?B)/.exec(out);
  const bytesPerSecond = t ? Number(t[1]) * (UNITS[t[2]!] ?? 1) : NaN;
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  let errors = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (sock) errors += sock.slice(1).reduce((a, b) => a + Number(b), 0);
  return { requestsPerSecond: rps, bytesPerSecond, requests, errors };
}

async function generate(url: string, headers: Record<string, string>, load: PerfLoad): Promise<ReturnType<typeof parseWrk>> {
  const timeoutMs = (load.durationSeconds + 30) * 1000;
  if (wrkAvailable) {
    const args = ['-t1', `-c${load.connections}`, `-d${load.durationSeconds}s`];
    for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
    return parseWrk(await exec('wrk', [...args, url], timeoutMs));
  }
  const args = [autocannonCli, '--json', '--no-progress', '-c', String(load.connections), '-d', String(load.durationSeconds)];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}=${v}`);
  const j = JSON.parse(await exec(process.execPath, [...args, url], timeoutMs)) as {
    duration: number; requests: { total: number }; throughput: { total: number }; non2xx: number; errors: number; timeouts: number;
  };
  return { requestsPerSecond: j.requests.total / j.duration, bytesPerSecond: j.throughput.total / j.duration, requests: j.requests.total, errors: j.non2xx + j.errors + j.timeouts };
}

/** Loads `url` with `headers`, reading each probe's CPU seconds before and after. */
export async function measure(url: string, headers: Record<string, string>, load: PerfLoad, probes: Record<string, CpuProbe>): Promise<PerfOutcome> {
  const before = Object.fromEntries(Object.entries(probes).map(([k, p]) => [k, p.cpuSeconds()]));
  const r = await generate(url, headers, load);
  const cpuMicros: Record<string, number | undefined> = {};
  for (const [k, p] of Object.entries(probes)) {
    const a = before[k];
    const b = p.cpuSeconds();
    cpuMicros[k] = a !== undefined && b !== undefined && r.requests > 0 ? ((b - a) * 1e6) / r.requests : undefined;
  }
  return { ...r, cpuMicros, note: r.errors ? `${r.errors} errors or non-2xx answers` : '' };
}
