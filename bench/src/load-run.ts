/**
 * Read load: autocannon in a child process (so the generator never shares the server's event
 * loop — it still shares the machine's cores), closed loop, N keep-alive connections for a fixed
 * duration against one URL. Before the run, one request checks the URL answers 200 and records the
 * body size.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { request } from 'undici';

const autocannonCli = createRequire(import.meta.url).resolve('autocannon');

export interface LoadTarget {
  readonly label: string;
  readonly url: string;
  readonly accept?: string;
  /** `Authorization` header sent with every request (a read-restricted index's reader). */
  readonly authorization?: string;
}

export interface LoadOutcome {
  readonly label: string;
  readonly status: number;
  readonly bodyBytes: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly rssBytes: number | undefined;
  /** Server CPU time (user + system) per request served, µs. */
  readonly cpuMicrosPerRequest: number | undefined;
  readonly note: string;
}

interface AutocannonJson {
  duration: number;
  requests: { total: number; average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

export interface LoadSettings {
  readonly connections: number;
  readonly durationSeconds: number;
}

async function probe(target: LoadTarget): Promise<{ status: number; bytes: number }> {
  const res = await request(target.url, { headers: { ...(target.accept ? { accept: target.accept } : {}), ...(target.authorization ? { authorization: target.authorization } : {}) } });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, bytes: body.length };
}

function autocannon(target: LoadTarget, settings: LoadSettings): Promise<AutocannonJson> {
  const args = [autocannonCli, '--json', '--no-progress', '-c', String(settings.connections), '-d', String(settings.durationSeconds)];
  if (target.accept) args.push('-H', `accept=${target.accept}`);
  if (target.authorization) args.push('-H', `authorization=${target.authorization}`);
  args.push(target.url);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: (settings.durationSeconds + 30) * 1000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`autocannon failed: ${err.message}\n${stderr}`));
      try {
        resolve(JSON.parse(stdout) as AutocannonJson);
      } catch {
        reject(new Error(`autocannon printed no JSON: ${stdout.slice(0, 300)}${stderr.slice(0, 300)}`));
      }
    });
  });
}

/** What runLoad reads from the server under load. */
export interface ServerProbe {
  /** Resident set size, bytes (WheelhouseProcess reads /proc/PID/status). */
  rssBytes(): number | undefined | Promise<number | undefined>;
  /** CPU seconds used so far. */
  cpuSeconds(): number | undefined;
}

export async function runLoad(target: LoadTarget, settings: LoadSettings, server: ServerProbe): Promise<LoadOutcome> {
  const rss = async (): Promise<number | undefined> => server.rssBytes();
  const empty = { requestsPerSecond: 0, p50Ms: 0, p99Ms: 0, non2xx: 0, errors: 0, timeouts: 0, cpuMicrosPerRequest: undefined };
  let first: { status: number; bytes: number };
  try {
    first = await probe(target);
  } catch (err) {
    return { label: target.label, status: 0, bodyBytes: 0, ...empty, rssBytes: await rss(), note: `probe failed: ${(err as Error).message}` };
  }
  if (first.status !== 200) {
    return { label: target.label, status: first.status, bodyBytes: first.bytes, ...empty, rssBytes: await rss(), note: `GET answered ${first.status}; not loaded` };
  }
  try {
    const cpuBefore = server.cpuSeconds();
    const r = await autocannon(target, settings);
    const cpuAfter = server.cpuSeconds();
    return {
      cpuMicrosPerRequest: cpuBefore !== undefined && cpuAfter !== undefined && r.requests.total > 0 ? ((cpuAfter - cpuBefore) * 1e6) / r.requests.total : undefined,
      label: target.label,
      status: first.status,
      bodyBytes: first.bytes,
      requestsPerSecond: r.requests.total / r.duration,
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      non2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      rssBytes: await rss(),
      note: r.non2xx || r.errors || r.timeouts ? `${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts` : '',
    };
  } catch (err) {
    return { label: target.label, status: first.status, bodyBytes: first.bytes, ...empty, rssBytes: await rss(), note: (err as Error).message.slice(0, 300) };
  }
}
