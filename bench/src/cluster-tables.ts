/**
 * Markdown sections for the replication (issue 3) and proxy (issue 4) figures: upload-to-visible
 * lag, catch-up, replica reads next to the master's, and the proxy's cost and failover time.
 */
import type { CatchUpOutcome } from './catch-up.js';
import type { LoadOutcome } from './load-run.js';
import type { FailoverOutcome } from './proxy-failover.js';
import type { LagOutcome } from './replication-lag.js';
import { f0, f1, f2, percentile } from './results-table.js';

/** devpi-server 6.19 on this machine (issue 3). */
const DEVPI_LAG = { p50: 25, p99: '40–60' } as const;
const LAG_P99_TARGET_MS = 10;
const CATCH_UP_TARGET = 10_000;
const PROXY_COST_TARGET = 0.15;

const ms = (v: number | undefined): string => (v === undefined ? '—' : v < 10 ? f2(v) : f1(v));
const mib = (b: number | undefined): string => (b === undefined ? '—' : f0(b / 2 ** 20));
const met = (ok: boolean): string => (ok ? '**met**' : '**NOT met**');

export interface ReplicaReadRow {
  readonly replica: LoadOutcome;
  /** The master's figures for the same URL path (from the master table or measured here). */
  readonly master: LoadOutcome | undefined;
}

export interface ReplicationResults {
  readonly setup: readonly string[];
  readonly lag: LagOutcome | undefined;
  readonly lagUploads: number;
  readonly catchUp: CatchUpOutcome | undefined;
  readonly reads: readonly ReplicaReadRow[];
  readonly readsNote: string;
}

export function renderReplication(r: ReplicationResults): string {
  const out: string[] = ['## Replication (issue 3)', ''];
  for (const s of r.setup) out.push(`- ${s}`);
  if (r.setup.length) out.push('');

  const lag = r.lag;
  if (lag) {
    const p = (q: number): number | undefined => percentile(lag.lagsMs, q);
    const max = lag.lagsMs.length ? Math.max(...lag.lagsMs) : undefined;
    out.push('### Upload-to-visible lag (master upload answered → file listed on the replica’s simple page)', '');
    out.push('| uploads visible / sent | p50 ms | p90 ms | p99 ms | max ms | devpi 6.19 p50 / p99 ms | target p99 |');
    out.push('|---:|---:|---:|---:|---:|---:|---|');
    const sent = lag.uploadMs.length;
    out.push(
      `| ${lag.lagsMs.length} / ${r.lagUploads}${sent < r.lagUploads ? ` (${r.lagUploads - sent} uploads refused)` : ''}${lag.neverVisible ? ` (${lag.neverVisible} never visible)` : ''} | **${ms(p(50))}** | ${ms(p(90))} | **${ms(p(99))}** | ${ms(max)} | ${DEVPI_LAG.p50} / ${DEVPI_LAG.p99} | < ${LAG_P99_TARGET_MS} ms: ${met(p(99) !== undefined && p(99)! < LAG_P99_TARGET_MS && lag.neverVisible === 0)} |`,
    );
    const fp = (q: number): number | undefined => percentile(lag.lagFloorsMs, q);
    out.push(
      `| floor: upload answered → start of the GET that listed it | ${ms(fp(50))} | ${ms(fp(90))} | ${ms(fp(99))} | ${ms(lag.lagFloorsMs.length ? Math.max(...lag.lagFloorsMs) : undefined)} | | |`,
    );
    out.push('');
    out.push(
      `Uploads with a lag over ${LAG_P99_TARGET_MS} ms: ${lag.lagsMs.filter((x) => x > LAG_P99_TARGET_MS).length} of ${lag.lagsMs.length}. ` +
      `Uploads are sequential (one 2 KB sdist at a time, login token, keep-alive), spread over ${Math.min(20, sent)} new projects; after each upload response the replica's HTML simple page is fetched back to back on one keep-alive connection (no sleeps) until it lists the file. ` +
        `The first row's lag includes the round trip of the GET that found the file (replica page GET: p50 ${ms(percentile(lag.pollMs, 50))} ms, p99 ${ms(percentile(lag.pollMs, 99))} ms, max ${ms(lag.pollMs.length ? Math.max(...lag.pollMs) : undefined)} ms), so it is a ceiling; the second row stops the clock when that GET started, a floor (the GET before it did not list the file). ` +
        `Upload round trip on the master: p50 ${ms(percentile(lag.uploadMs, 50))} ms, p99 ${ms(percentile(lag.uploadMs, 99))} ms. ` +
        `Files already listed at the first poll: ${lag.firstPollHits} of ${lag.lagsMs.length}; page GETs in all: ${lag.polls}.`,
      '',
    );
  }

  const c = r.catchUp;
  if (c) {
    out.push('### Catch-up of a fresh replica', '');
    out.push('| master serials | replica spawn → in sync s | serials/s | first /+status answer → in sync s | replica peak RSS (VmHWM) MiB | replica max sampled RSS MiB | CPU s replica / master during sync | target ≥ 10,000 serials/s |');
    out.push('|---:|---:|---:|---:|---:|---:|---:|---|');
    out.push(
      `| ${f0(c.masterSerial)} | **${f2(c.seconds)}** | **${f0(c.serialsPerSecond)}** | ${c.secondsAfterListening === undefined ? '—' : `${f2(c.secondsAfterListening)} (from serial ${String(c.serialAtFirstAnswer)})`} | ${mib(c.peakRssBytes)} | ${mib(c.maxSampledRssBytes)} | ${c.replicaCpuSeconds === undefined ? '—' : f2(c.replicaCpuSeconds)} / ${c.masterCpuSeconds === undefined ? '—' : f2(c.masterCpuSeconds)} | ${met(c.serialsPerSecond >= CATCH_UP_TARGET)} |`,
    );
    out.push('');
    out.push(
      `The store: \`wheelhouse init\`, then ${f0(c.build.serials)} records committed in-process with \`sync: false\` (one user, then four indexes of that user, each record a few hundred bytes of msgpack; no release files) in ${f1(c.build.seconds)} s. ` +
        `The master process took ${f2(c.masterStartSeconds)} s from spawn to answering /+status on it (RSS ${mib(c.masterRssBytes)} MiB at the end). ` +
        `The replica's time includes its own process start; its /+status is polled every 20 ms, its VmRSS sampled every 100 ms.`,
      '',
    );
  }

  if (r.reads.length) {
    out.push('### Replica reads (same endpoints and load as the master table)', '');
    out.push(r.readsNote, '');
    out.push('| endpoint | body bytes | replica req/s | master req/s | replica ÷ master | replica p50 ms | replica p99 ms | replica CPU µs/req | master CPU µs/req | replica RSS MiB |');
    out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const row of r.reads) {
      const o = row.replica;
      const m = row.master;
      out.push(
        `| ${o.label}${o.note ? ` (${o.note})` : ''} | ${f0(o.bodyBytes)}${m && m.bodyBytes !== o.bodyBytes ? ` (master ${f0(m.bodyBytes)})` : ''} | **${f0(o.requestsPerSecond)}** | ${m ? f0(m.requestsPerSecond) : '—'} | ${m && m.requestsPerSecond > 0 ? `${((100 * o.requestsPerSecond) / m.requestsPerSecond).toFixed(0)}%` : '—'} | ${f1(o.p50Ms)} | ${f1(o.p99Ms)} | ${o.cpuMicrosPerRequest === undefined ? '—' : f0(o.cpuMicrosPerRequest)} | ${m?.cpuMicrosPerRequest === undefined ? '—' : f0(m.cpuMicrosPerRequest)} | ${mib(o.rssBytes)} |`,
      );
    }
    out.push('');
  }
  return out.join('\n');
}

export interface ProxyResults {
  readonly setup: readonly string[];
  readonly direct: LoadOutcome | undefined;
  readonly proxied: LoadOutcome | undefined;
  /** Proxy process CPU per request through it. */
  readonly proxyCpuMicros: number | undefined;
  readonly failover: FailoverOutcome | undefined;
  readonly failoverConnections: number;
  readonly loadNote: string;
}

export function renderProxy(r: ProxyResults): string {
  const out: string[] = ['## Proxy (issue 4)', ''];
  for (const s of r.setup) out.push(`- ${s}`);
  if (r.setup.length) out.push('');
  if (r.direct && r.proxied) {
    const d = r.direct;
    const p = r.proxied;
    const cost = d.requestsPerSecond > 0 ? 1 - p.requestsPerSecond / d.requestsPerSecond : NaN;
    out.push('### Simple page through the proxy vs directly on the replica', '');
    out.push(r.loadNote, '');
    out.push('| path | req/s | p50 ms | p99 ms | replica CPU µs/req | proxy CPU µs/req | % of direct |');
    out.push('|---|---:|---:|---:|---:|---:|---:|');
    const row = (name: string, o: LoadOutcome, proxyCpu: number | undefined): string =>
      `| ${name}${o.note ? ` (${o.note})` : ''} | **${f0(o.requestsPerSecond)}** | ${f1(o.p50Ms)} | ${f1(o.p99Ms)} | ${o.cpuMicrosPerRequest === undefined ? '—' : f0(o.cpuMicrosPerRequest)} | ${proxyCpu === undefined ? '—' : f0(proxyCpu)} | ${d.requestsPerSecond > 0 ? `${((100 * o.requestsPerSecond) / d.requestsPerSecond).toFixed(0)}%` : '—'} |`;
    out.push(row('directly on the replica', d, undefined));
    out.push(row('through the proxy (→ replica)', p, r.proxyCpuMicros));
    out.push('');
    out.push(`Proxy cost: ${Number.isFinite(cost) ? `${(100 * cost).toFixed(0)}%` : '—'} of the direct throughput; target ≤ ${(100 * PROXY_COST_TARGET).toFixed(0)}%: ${met(cost <= PROXY_COST_TARGET)}.`, '');
  }
  const f = r.failover;
  if (f) {
    out.push('### Failover: SIGKILL of the replica under read load through the proxy', '');
    out.push('| kill → proxy /+status `usable: false` ms | kill → last new attempt to the replica seen ms | attempts to the replica after kill / after unusable | client requests | failed client requests | slowest client request started ≤ 2 s after the kill ms |');
    out.push('|---:|---:|---:|---:|---:|---:|');
    out.push(
      `| **${f.unusableAfterMs === undefined ? 'never' : f1(f.unusableAfterMs)}** | ${f.lastAttemptSeenMs === undefined ? 'none seen' : f1(f.lastAttemptSeenMs)} | ${f.attemptsAfterKill} / ${f.attemptsAfterUnusable} | ${f0(f.clientRequests)} | **${f.clientFailures}** | ${f1(f.maxLatencyNearKillMs)} |`,
    );
    out.push('');
    out.push(
      `Load: ${r.failoverConnections} keep-alive connections in a closed loop of GETs of the HTML simple page through the proxy (undici, in the benchmark process). ` +
        `The proxy's /+status is polled on its own connection every 10 ms (median gap between polls ${f1(f.pollGapMs)} ms, longest gap between the kill and \`usable: false\` ${f1(f.maxPollGapUntilUnusableMs)} ms: the resolution); "attempts" is the backend's \`requests\` counter, which counts every request the proxy tried on it, including ones that failed to connect and were retried on the master. ` +
        `Before the kill the proxy had sent the replica ${f0(f.attemptsBeforeKill)} requests.`,
      '',
    );
    if (f.failureKinds.size) out.push(`Failed client requests: ${[...f.failureKinds].map(([k, n]) => `${n}× \`${k}\``).join('; ')}.`, '');
  }
  return out.join('\n');
}
