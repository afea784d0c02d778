/**
 * Active health checks: every `intervalMs`, `GET /+ready` on each backend (a replica is ready once
 * in sync and within its lag bound; a master whenever it answers). The answer's `X-Devpi-Serial`
 * also tells the backend's serial, which read-your-writes routing uses.
 */
import { request, type Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { Backend, BackendPool } from './backends.js';
import type { HealthPolicy } from './policy.js';
import { parseEpochHeader, serialFromHeaders } from './read-your-writes.js';

/** Runs the checks until stopped. */
export class HealthChecker {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly pool: BackendPool,
    private readonly policy: HealthPolicy,
    private readonly dispatcher: Dispatcher,
    private readonly log: Logger,
  ) {}

  /** One round of checks over all backends (also used at start-up). */
  async checkAll(): Promise<void> {
    await Promise.all(this.pool.backends.map((b) => this.check(b)));
  }

  /**
   * Automatic failover: etcd names `b` the master. Checks it every 100 ms (at most `timeoutMs`,
   * default 10,000) until it is up; its first good check counts as `rise` good ones (etcd's word
   * is the other evidence), so writes go there without waiting for the rise count.
   */
  async confirmLeader(b: Backend, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!b.up && Date.now() < end) {
      await this.check(b, true);
      if (!b.up) await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async check(b: Backend, trusted = false): Promise<void> {
    let ok = false;
    try {
      const res = await request(`${b.url}/+ready`, {
        dispatcher: this.dispatcher,
        headers: { accept: 'application/json', ...(this.pool.highestEpoch > 0 ? { 'x-wheelhouse-epoch': String(this.pool.highestEpoch) } : {}) },
        headersTimeout: this.policy.timeoutMs,
        bodyTimeout: this.policy.timeoutMs,
        signal: AbortSignal.timeout(this.policy.timeoutMs),
      });
      const seen = serialFromHeaders(res.headers);
      b.noteSerial(seen.serial, seen.masterUuid);
      const role = res.headers['x-wheelhouse-role'];
      b.noteEpoch(parseEpochHeader(res.headers['x-wheelhouse-epoch']), Array.isArray(role) ? role[0] : role);
      ok = res.statusCode === 200;
      b.lastError = ok ? undefined : `/+ready answered ${res.statusCode}: ${(await res.body.text()).slice(0, 200)}`;
      if (ok) await res.body.dump();
    } catch (err) {
      b.lastError = (err as Error).message;
    }
    const wasUp = b.up;
    if (trusted && ok) b.okStreak = Math.max(b.okStreak, this.policy.rise - 1);
    const up = this.pool.noteCheck(b, ok);
    if (up !== wasUp) this.log.warn({ backend: b.name, url: b.url, up, reason: b.lastError ?? null }, up ? 'backend up' : 'backend down');
  }

  /** Starts periodic checks. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = async (): Promise<void> => {
      await this.checkAll();
      if (this.running) this.timer = setTimeout(() => void tick(), this.policy.intervalMs);
    };
    void tick();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
  }
}
