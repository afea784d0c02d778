/**
 * The mirror part of the benchmark (issue 6), `--only=mirror`: a fresh master whose `root/pypi`
 * points at a local upstream (mirror-upstream.ts). Measures
 * - the full project list (~880,000 PyPI names) at `/root/pypi/+simple/`: time to first byte and
 *   total, first request (upstream fetch, store, serve) and cached; ten downloads in parallel;
 * - the master's peak RSS (VmHWM) after serving it;
 * - cached mirror project-page throughput and latency under autocannon: the mirror's own page
 *   (HTML, JSON) and the page of a stage inheriting the mirror.
 * Returns one markdown section; never throws (a failure becomes a note in the section).
 */
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'undici';
import { runLoad, type LoadOutcome, type LoadSettings } from './load-run.js';
import { MirrorUpstream, PYPI_NAMES_GZ } from './mirror-upstream.js';
import { f0, f1 } from './results-table.js';
import { TestRoot, type WheelhouseProcess } from '@wheelhouse/testing';
import { startBenchMaster } from './bench-cluster.js';
import { basicAuth } from './upload-runner.js';

const ROOT_PASSWORD = 'bench-mirror-root';
const PROJECT = 'bench-mirror-pkg';
/** Releases of the benchmark project (a wheel and an sdist each): a popular project's page size. */
const VERSIONS = 60;
const PARALLEL_LISTS = 10;

type Say = (s: string) => void;

interface ListTiming {
  readonly label: string;
  readonly status: number;
  readonly ttfbMs: number;
  readonly totalMs: number;
  readonly bytes: number;
}

async function timeGet(label: string, url: string, accept: string): Promise<ListTiming> {
  const t0 = performance.now();
  const res = await request(url, { headers: { accept }, headersTimeout: 300_000, bodyTimeout: 300_000 });
  const ttfbMs = performance.now() - t0;
  let bytes = 0;
  for await (const chunk of res.body) bytes += (chunk as Buffer).length;
  return { label, status: res.statusCode, ttfbMs, totalMs: performance.now() - t0, bytes };
}

function memory(pid: number | undefined): { peak: number; rss: number } | undefined {
  try {
    const s = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
    const kb = (f: string): number => Number(new RegExp(`${f}:\\s+(\\d+) kB`).exec(s)?.[1] ?? NaN) * 1024;
    return { peak: kb('VmHWM'), rss: kb('VmRSS') };
  } catch {
    return undefined;
  }
}

async function call(method: 'PUT' | 'PATCH', url: string, body: unknown, headers: Record<string, string>): Promise<void> {
  const res = await request(url, { method, headers: { 'content-type': 'application/json', accept: 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.body.text();
  if (res.statusCode !== 200 && res.statusCode !== 201) throw new Error(`${method} ${url} answered ${res.statusCode}: ${text.slice(0, 300)}`);
}

const mib = (b: number | undefined): string => (b === undefined || Number.isNaN(b) ? '—' : f0(b / 2 ** 20));
const ms = (v: number): string => (v < 10 ? v.toFixed(2) : f1(v));

/** Runs the mirror benchmark and returns its markdown section. */
export async function runMirrorPart(say: Say, load: LoadSettings = { connections: 10, durationSeconds: 10 }): Promise<string> {
  const out: string[] = ['## Mirror indexes (issue 6)', ''];
  const notes: string[] = [];
  const nodes = new TestRoot('bench-mirror');
  let server: WheelhouseProcess | undefined;
  let upstream: MirrorUpstream | undefined;
  const onExit = (): void => server?.killNow();
  process.once('exit', onExit);
  try {
    const names = existsSync(PYPI_NAMES_GZ) ? PYPI_NAMES_GZ : undefined;
    upstream = await MirrorUpstream.start(names ?? '/dev/null', VERSIONS);
    say('mirror: starting a master');
    server = await startBenchMaster(nodes, ROOT_PASSWORD);
    const base = server.url;
    await call('PATCH', `${base}/root/pypi`, { mirror_url: upstream.simpleUrl }, basicAuth('root', ROOT_PASSWORD));
    await call('PUT', `${base}/bench`, { password: 'bench-mirror-pw' }, {});
    await call('PUT', `${base}/bench/dev`, { bases: ['root/pypi'] }, basicAuth('bench', 'bench-mirror-pw'));
    const afterStart = memory(server.pid);
    out.push(
      `- one \`wheelhouse master\` (--log-level warn, fresh temp data dir); \`root/pypi\` points at a local upstream on 127.0.0.1 (PEP 691 JSON pages, PEP 503 HTML list); \`bench/dev\` has \`bases: [root/pypi]\``,
      `- master RSS after start: ${mib(afterStart?.rss)} MiB`,
    );

    // ---- the full list --------------------------------------------------------------------------
    const lists: ListTiming[] = [];
    if (names) {
      say('mirror: full project list, first request (upstream fetch + store + serve)');
      lists.push(await timeGet('HTML, first request (fetch from upstream, store, serve)', `${base}/root/pypi/+simple/`, 'text/html'));
      for (let i = 0; i < 3; i++) lists.push(await timeGet(`HTML, cached (${i + 1})`, `${base}/root/pypi/+simple/`, 'text/html'));
      lists.push(await timeGet('PEP 691 JSON, cached', `${base}/root/pypi/+simple/`, 'application/vnd.pypi.simple.v1+json'));
      const afterList = memory(server.pid);
      say(`mirror: ${PARALLEL_LISTS} parallel list downloads`);
      const t0 = performance.now();
      const parallel = await Promise.all(Array.from({ length: PARALLEL_LISTS }, (_, i) => timeGet(`parallel ${i}`, `${base}/root/pypi/+simple/`, 'text/html')));
      const parallelMs = performance.now() - t0;
      const afterParallel = memory(server.pid);
      out.push(`- full list: ${names} (886,323 PyPI names) streamed by the upstream as one HTML page; upstream asked ${upstream.listRequests} time(s)`, '');
      out.push('### Full project list `/root/pypi/+simple/`', '');
      out.push('| request | status | MiB | time to first byte ms | total ms |', '|---|---:|---:|---:|---:|');
      for (const l of lists) out.push(`| ${l.label} | ${l.status} | ${f1(l.bytes / 2 ** 20)} | ${ms(l.ttfbMs)} | ${ms(l.totalMs)} |`);
      const pt = parallel.map((p) => p.totalMs).sort((a, b) => a - b);
      out.push(
        `| ${PARALLEL_LISTS} in parallel (HTML, cached): all ${parallel.every((p) => p.status === 200) ? '200' : 'NOT 200'} | | ${f1(parallel.reduce((n, p) => n + p.bytes, 0) / 2 ** 20)} | max ${ms(Math.max(...parallel.map((p) => p.ttfbMs)))} | wall ${ms(parallelMs)}; per request ${ms(pt[0]!)}–${ms(pt.at(-1)!)} |`,
        '',
      );
      out.push('| master memory | MiB |', '|---|---:|');
      out.push(`| RSS after start | ${mib(afterStart?.rss)} |`);
      out.push(`| **peak RSS (VmHWM) after fetching, storing and serving the list 5 times** | **${mib(afterList?.peak)}** |`);
      out.push(`| RSS then | ${mib(afterList?.rss)} |`);
      out.push(`| peak RSS (VmHWM) after ${PARALLEL_LISTS} parallel list downloads | ${mib(afterParallel?.peak)} |`, '');
    } else {
      notes.push(`${PYPI_NAMES_GZ} is absent: full-list figures skipped`);
    }

    // ---- cached project pages under load ----------------------------------------------------------
    for (const path of [`/root/pypi/+simple/${PROJECT}/`, `/bench/dev/+simple/${PROJECT}/`]) {
      const warm = await timeGet('warm', `${base}${path}`, 'text/html');
      if (warm.status !== 200) throw new Error(`GET ${path} answered ${warm.status}`);
    }
    const targets = [
      { label: `mirror page \`/root/pypi/+simple/${PROJECT}/\` (HTML)`, url: `${base}/root/pypi/+simple/${PROJECT}/` },
      { label: `mirror page \`/root/pypi/+simple/${PROJECT}/\` (PEP 691 JSON)`, url: `${base}/root/pypi/+simple/${PROJECT}/`, accept: 'application/vnd.pypi.simple.v1+json' },
      { label: `stage inheriting the mirror \`/bench/dev/+simple/${PROJECT}/\` (HTML)`, url: `${base}/bench/dev/+simple/${PROJECT}/` },
    ];
    const rows: LoadOutcome[] = [];
    for (const target of targets) {
      say(`mirror: load ${target.label}`);
      rows.push(await runLoad(target, load, server));
    }
    out.push(`### Cached mirror project page (${VERSIONS * 2} files), autocannon ${load.connections} connections × ${load.durationSeconds} s`, '');
    out.push('| URL | KiB | req/s | p50 ms | p99 ms | server CPU µs/req | RSS MiB after | note |', '|---|---:|---:|---:|---:|---:|---:|---|');
    for (const r of rows) {
      out.push(
        `| ${r.label} | ${f1(r.bodyBytes / 1024)} | **${f0(r.requestsPerSecond)}** | ${ms(r.p50Ms)} | **${ms(r.p99Ms)}** | ${r.cpuMicrosPerRequest === undefined ? '—' : f0(r.cpuMicrosPerRequest)} | ${mib(r.rssBytes)} | ${r.note} |`,
      );
    }
    out.push('');
    const final = memory(server.pid);
    out.push(`Master peak RSS over the whole mirror part: ${mib(final?.peak)} MiB. The load generator runs on the same cores as the server.`);
    const log = server.log().split('\n').filter((l) => l.trim() && !/^(Wheelhouse master serving | {2}pip install )/.test(l));
    if (log.length) notes.push(`master log (warn) has ${log.length} line(s); first: \`${log[0]!.slice(0, 300)}\``);
  } catch (err) {
    notes.push(`mirror benchmark stopped early: ${(err as Error).stack ?? String(err)}`);
  } finally {
    await nodes.cleanup({ graceful: true });
    await upstream?.stop();
    process.removeListener('exit', onExit);
  }
  if (notes.length) out.push('', ...notes.map((n) => `- ${n}`));
  return out.join('\n');
}
