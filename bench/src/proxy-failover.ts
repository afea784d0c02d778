/**
 * Failover through the proxy: a closed loop of simple-page GETs (N keep-alive connections) runs
 * through the proxy while the proxy's `/+status` is polled every 10 ms on its own connection; the
 * replica is SIGKILLed and we time how long until the proxy reports it `usable: false`, when its
 * request counter (attempts sent to it) last moved, and whether any client request failed.
 */
import { Client, Pool } from 'undici';
import type { WheelhouseProcess } from '@wheelhouse/testing';

export interface FailoverSettings {
  readonly proxyUrl: string;
  /** Path of the page the load GETs, e.g. `/bench/dev/+simple/bench-proj-000/`. */
  readonly path: string;
  /** The replica as the proxy names it in `/+status` (`replica1`). */
  readonly backendName: string;
  readonly victim: WheelhouseProcess;
  readonly connections: number;
  /** Load before the kill, ms. */
  readonly beforeMs: number;
  /** Load after the replica was marked unusable, ms. */
  readonly afterMs: number;
  /** Give up waiting for `usable: false` after this long, ms. */
  readonly timeoutMs: number;
}

export interface FailoverOutcome {
  /** Kill → proxy's /+status says usable: false, ms (undefined: never within the timeout). */
  readonly unusableAfterMs: number | undefined;
  /** Kill → the last /+status poll in which the backend's request counter had grown, ms. */
  readonly lastAttemptSeenMs: number | undefined;
  /** Requests the proxy sent (tried) to the backend after the kill / after it was marked unusable. */
  readonly attemptsAfterKill: number;
  readonly attemptsAfterUnusable: number;
  /** Requests the proxy had sent to the backend in the warm-up before the kill. */
  readonly attemptsBeforeKill: number;
  readonly clientRequests: number;
  /** Client requests that were not a 200 (or failed at the socket). */
  readonly clientFailures: number;
  readonly failureKinds: Map<string, number>;
  /** Slowest client request that started within 2 s after the kill, ms. */
  readonly maxLatencyNearKillMs: number;
  readonly statusPolls: number;
  /** Median gap between status polls (the resolution), ms. */
  readonly pollGapMs: number;
  /** Longest gap between status polls from the kill until `usable: false` was seen, ms. */
  readonly maxPollGapUntilUnusableMs: number;
}

interface BackendStatus {
  name?: string;
  usable?: boolean;
  requests?: number;
}

async function backend(client: Client, name: string): Promise<BackendStatus | undefined> {
  const res = await client.request({ path: '/+status', method: 'GET', headers: { accept: 'application/json' } });
  const body = (await res.body.json()) as { result?: { backends?: BackendStatus[] } };
  return body.result?.backends?.find((b) => b.name === name);
}

export async function measureFailover(s: FailoverSettings): Promise<FailoverOutcome> {
  const pool = new Pool(s.proxyUrl, { connections: s.connections, keepAliveTimeout: 60_000 });
  const admin = new Client(s.proxyUrl, { keepAliveTimeout: 60_000 });
  const failureKinds = new Map<string, number>();
  let clientRequests = 0;
  let clientFailures = 0;
  let killAt = Infinity;
  let maxLatencyNearKillMs = 0;
  let stop = false;
  const fail = (k: string): void => {
    clientFailures++;
    failureKinds.set(k, (failureKinds.get(k) ?? 0) + 1);
  };
  const worker = async (): Promise<void> => {
    while (!stop) {
      const t0 = performance.now();
      try {
        const res = await pool.request({ path: s.path, method: 'GET', headersTimeout: 30_000, bodyTimeout: 30_000 });
        const text = await res.body.text();
        if (res.statusCode !== 200) fail(`${res.statusCode} ${text.slice(0, 120)}`);
      } catch (err) {
        fail(`socket: ${(err as Error).message}`);
      }
      clientRequests++;
      const t1 = performance.now();
      if (t0 >= killAt && t0 < killAt + 2_000) maxLatencyNearKillMs = Math.max(maxLatencyNearKillMs, t1 - t0);
    }
  };
  const workers = Array.from({ length: s.connections }, worker);

  let statusPolls = 0;
  const gaps: number[] = [];
  try {
    await new Promise((r) => setTimeout(r, s.beforeMs));
    const before = await backend(admin, s.backendName);
    if (!before?.usable) throw new Error(`${s.backendName} is not usable in the proxy before the kill: ${JSON.stringify(before)}`);
    const attemptsBeforeKill = before.requests ?? 0;

    killAt = performance.now();
    const killed = s.victim.kill('SIGKILL');
    let unusableAt: number | undefined;
    let requestsAtUnusable = attemptsBeforeKill;
    let lastCount = attemptsBeforeKill;
    let lastMoveAt: number | undefined;
    let prev = killAt;
    while (performance.now() - killAt < s.timeoutMs) {
      const b = await backend(admin, s.backendName);
      const now = performance.now();
      statusPolls++;
      gaps.push(now - prev);
      prev = now;
      const count = b?.requests ?? lastCount;
      if (count > lastCount) lastMoveAt = now;
      lastCount = count;
      if (b && b.usable === false) {
        unusableAt = now;
        requestsAtUnusable = count;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const maxPollGapUntilUnusableMs = gaps.length ? Math.max(...gaps) : 0;
    await killed;
    // keep the load on: a backend that comes back into rotation would show in the counter
    const afterEnd = performance.now() + s.afterMs;
    while (performance.now() < afterEnd) {
      const b = await backend(admin, s.backendName);
      const now = performance.now();
      statusPolls++;
      const count = b?.requests ?? lastCount;
      if (count > lastCount) lastMoveAt = now;
      lastCount = count;
      await new Promise((r) => setTimeout(r, 10));
    }
    stop = true;
    await Promise.all(workers);
    gaps.sort((a, b) => a - b);
    return {
      unusableAfterMs: unusableAt === undefined ? undefined : unusableAt - killAt,
      lastAttemptSeenMs: lastMoveAt === undefined ? undefined : lastMoveAt - killAt,
      attemptsAfterKill: lastCount - attemptsBeforeKill,
      attemptsAfterUnusable: lastCount - requestsAtUnusable,
      attemptsBeforeKill,
      clientRequests,
      clientFailures,
      failureKinds,
      maxLatencyNearKillMs,
      statusPolls,
      pollGapMs: gaps[Math.floor(gaps.length / 2)] ?? 0,
      maxPollGapUntilUnusableMs,
    };
  } finally {
    stop = true;
    await Promise.all(workers);
    await Promise.all([pool.close(), admin.close()]);
  }
}
