/**
 * The retention and garbage collection benchmark (issue 16), `--only=gc`: one project with 5,000 dev
 * versions (two release files each, 2–8 KB; release-store.ts) in a stage keeping the newest 10 dev
 * releases, served by a real master (`--gc-interval 0 --gc-grace 0`: collection only when asked),
 * everything through HTTP:
 * - before cleanup: latency of the project's simple page (HTML, 2 readers) and of uploads of new dev
 *   versions (one at a time, the legacy multipart form as twine sends it);
 * - `wheelhouse cleanup` (wall time of the process, versions removed);
 * - simple-page latency with the node idle (after WARM_UP reads), then while `POST /+gc` collects the removed versions'
 *   files (the same readers, running until the collection answered); GC throughput from its report
 *   (files and MB removed per second of the run);
 * - after collection: simple-page latency idle for as long as the collection ran (the fair
 *   comparison with the reads during it), and upload latency again.
 * Returns one markdown section; never throws (a failure becomes a note in the section).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { freePort, WheelhouseProcess } from '@wheelhouse/testing';
import { buildReleaseStore, projectName, STORE_INDEX, STORE_ROOT_PASSWORD, STORE_USER, STORE_USER_PASSWORD } from './release-store.js';
import { sdist } from './release-files.js';
import { f0, f1, f2, percentile } from './results-table.js';
import { runCliTimed } from './timed-cli.js';
import { basicAuth, runUploads } from './upload-runner.js';

const VERSIONS = 5_000;
const KEEP = 10;
const UPLOADS = 50;
const READS = 300;
const READERS = 2;
/** Reads discarded before an idle measurement (the page is rendered and cached by the first). */
const WARM_UP = 50;

type Say = (s: string) => void;

interface Latency {
  readonly what: string;
  readonly ms: readonly number[];
}

/** GETs `path` from `readers` connections until `count` answers are in or `until()` says stop; latencies in ms. */
async function readLatencies(pool: Pool, path: string, opts: { count?: number; until?: () => boolean }): Promise<number[]> {
  const ms: number[] = [];
  let started = 0;
  const more = (): boolean => (opts.until ? !opts.until() : started < (opts.count ?? READS));
  const reader = async (): Promise<void> => {
    while (more()) {
      started++;
      const t0 = performance.now();
      const res = await pool.request({ path, method: 'GET', headers: { accept: 'text/html' } });
      await res.body.arrayBuffer();
      if (res.statusCode !== 200) throw new Error(`GET ${path}: ${res.statusCode}`);
      ms.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: READERS }, reader));
  return ms;
}

async function uploadLatencies(baseUrl: string, versionPrefix: string): Promise<number[]> {
  const files = Array.from({ length: UPLOADS }, (_, i) => sdist(projectName(0), `${versionPrefix}${i}`, 4096));
  const out = await runUploads({ baseUrl, indexPath: `/${STORE_USER}/${STORE_INDEX}/`, authHeaders: basicAuth(STORE_USER, STORE_USER_PASSWORD), files, concurrency: 1, budgetMs: 300_000 });
  if (out.ok !== UPLOADS) throw new Error(`uploads ${versionPrefix}*: ${out.ok} of ${UPLOADS} accepted; ${[...out.errors].map(([e, n]) => `${n}× ${e}`).join('; ')}`);
  return out.latenciesMs;
}

function latencyRow(l: Latency): string {
  const p = (q: number): string => f1(percentile(l.ms, q) ?? NaN);
  return `| ${l.what} | ${f0(l.ms.length)} | ${p(50)} | ${p(99)} | ${f1(Math.max(...l.ms))} |`;
}

/** Runs the part (see module doc); the markdown section. */
export async function runGcPart(say: Say): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'wh-bench-gc-'));
  const notes: string[] = [];
  const latencies: Latency[] = [];
  const facts: string[] = [];
  let master: WheelhouseProcess | undefined;
  try {
    const datadir = join(root, 'master');
    say(`gc: building a store with ${f0(VERSIONS)} dev versions of one project`);
    const built = await buildReleaseStore(root, datadir, 1, VERSIONS, { version: (v) => `1.0.dev${v}`, index: { retention: { keep_dev_releases: KEEP } } });
    facts.push(`store: ${f0(built.releases)} dev versions of \`${projectName(0)}\`, ${f0(built.files)} files (${f1(built.fileBytes / 2 ** 20)} MiB), built in ${f1(built.seconds)} s; the index keeps the newest ${KEEP} dev releases`);
    master = await new WheelhouseProcess({
      name: 'gc-master', role: 'master', datadir, port: await freePort(), cwd: root, logPath: join(root, 'gc-master.log'),
      args: ['--gc-interval', '0', '--gc-grace', '0'],
    }).start({ timeoutMs: 120_000 });
    const pool = new Pool(master.url, { connections: READERS, keepAliveTimeout: 30_000 });
    const page = `/${STORE_USER}/${STORE_INDEX}/+simple/${projectName(0)}/`;
    try {
      say('gc: latencies before cleanup');
      latencies.push({ what: `simple page, ${f0(VERSIONS)} versions`, ms: await readLatencies(pool, page, { count: READS }) });
      latencies.push({ what: `upload, project with ${f0(VERSIONS)} versions`, ms: await uploadLatencies(master.url, '1.1.dev') });

      say('gc: wheelhouse cleanup');
      const cleanup = await runCliTimed(['cleanup', '--datadir', datadir], root, join(root, 'cleanup.time'));
      if (cleanup.code !== 0) throw new Error(`cleanup exited ${String(cleanup.code)}: ${cleanup.stderr.slice(-2000)}`);
      const removed = /^(\d+) versions removed/m.exec(cleanup.stdout)?.[1];
      facts.push(`\`wheelhouse cleanup\`: ${f1(cleanup.seconds)} s wall (process spawn to exit), ${removed ?? '?'} versions removed`);

      say('gc: reads idle, then while collecting');
      // the first reads after a change render and cache the page: not part of the idle figure
      await readLatencies(pool, page, { count: WARM_UP });
      latencies.push({ what: `simple page after cleanup (${KEEP + UPLOADS} versions), idle`, ms: await readLatencies(pool, page, { count: READS }) });
      let done = false;
      const gcStarted = performance.now();
      const gc = pool
        .request({ path: '/+gc', method: 'POST', headers: basicAuth('root', STORE_ROOT_PASSWORD) })
        .then(async (res) => {
          const text = await res.body.text();
          if (res.statusCode !== 200) throw new Error(`POST /+gc: ${res.statusCode} ${text.slice(0, 300)}`);
          return (JSON.parse(text) as { result: { storedFiles: number; freedFiles: number; freedBytes: number; ms: number; held: string | null } }).result;
        })
        .finally(() => (done = true));
      const during = await readLatencies(pool, page, { until: () => done });
      const report = await gc;
      const wall = (performance.now() - gcStarted) / 1000;
      latencies.push({ what: 'simple page after cleanup, while GC runs', ms: during });
      if (report.held) notes.push(`the collection was held back (${report.held}): nothing was removed`);
      const s = report.ms / 1000;
      facts.push(`GC: ${f0(report.storedFiles)} files scanned, ${f0(report.freedFiles)} removed (${f1(report.freedBytes / 2 ** 20)} MiB) in ${f0(report.ms)} ms (${f2(wall)} s as the client saw it): **${f0(report.freedFiles / s)} files/s, ${f2(report.freedBytes / 2 ** 20 / s)} MiB/s** removed, ${f0(report.storedFiles / s)} files/s scanned`);
      if (during.length < 30) notes.push(`only ${during.length} reads completed while GC ran: its read-latency row is thin`);

      say('gc: latencies after collection');
      // idle for as long as GC ran: a short idle sample on a loaded machine is not comparable with a long busy one
      const idleUntil = performance.now() + Math.min(wall, 120) * 1000;
      latencies.push({ what: `simple page after GC, idle for as long as GC ran (${f1(Math.min(wall, 120))} s)`, ms: await readLatencies(pool, page, { until: () => performance.now() >= idleUntil }) });
      latencies.push({ what: 'upload after cleanup and GC', ms: await uploadLatencies(master.url, '2.0.dev') });
    } finally {
      await pool.close();
    }
  } catch (err) {
    notes.push(`gc benchmark stopped early: ${(err as Error).stack ?? String(err)}`);
  } finally {
    if (master?.unexpectedExit) notes.push(`**the master died during the run (${master.unexpectedExit})**`);
    await master?.stop();
    rmSync(root, { recursive: true, force: true });
  }
  const table = latencies.length
    ? ['| measure (through HTTP) | samples | p50 ms | p99 ms | max ms |', '|---|---:|---:|---:|---:|', ...latencies.map(latencyRow)].join('\n')
    : '';
  return [
    '## Retention and garbage collection',
    '',
    ...facts.map((f) => `- ${f}`),
    '',
    table,
    '',
    `Simple page: HTML, ${READERS} readers on keep-alive connections; uploads: one at a time, ${UPLOADS} new dev versions of 4 KiB (legacy multipart form). Same master, same run.`,
    ...(notes.length ? ['', ...notes.map((n) => `- ${n}`)] : []),
    '',
  ].join('\n');
}
