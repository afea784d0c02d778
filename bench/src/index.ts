/**
 * `npm run bench`: the Wheelhouse benchmark (a program, not a test). Parts, all by default or one
 * with `--only=master|replication|proxy|mirror|dump|perf|gc|sync|failover`:
 * - master: a fresh master with 300 projects and 2,000 files; upload throughput with a token,
 *   twine-style and through the real twine; read throughput and latency under autocannon;
 * - replication: a replica of that master; upload-to-visible lag, the same reads on the replica,
 *   catch-up of a fresh replica on a master with 50,000 serials;
 * - proxy: the proxy's cost on the simple page, and failover time when the replica is killed;
 * - perf: the issue-13 table: nginx static, master, replica, Wheelhouse proxy and nginx proxy on
 *   simple pages, small and large wheels and a 1 MB page with gzip (wrk and nginx from Debian when
 *   installed: `apt-get install -y nginx wrk`; a column without them is skipped with the reason);
 * - gc: a project with 5,000 dev versions; upload and simple-page latency before and after cleanup,
 *   GC throughput, and simple-page latency while GC runs against idle (gc-part.ts).
 * - sync: upload latency p50/p99 and files/s of a master with `--sync-replicas 1` against one with
 *   0, each with one replica (acknowledged means replicated, issue 14).
 * - failover: five automatic-failover drills on etcd (failover-bench.ts): SIGKILL of the master to
 *   the first successful upload through the proxy, p50/max.
 * Prints one markdown report (machine, date, tables, notes) and writes it to
 * bench/results/latest.md (a single part: latest-<part>.md). Exits non-zero only on bad arguments
 * or when the master cannot be started.
 */
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BenchCluster, ServerStartError } from './bench-cluster.js';
import { renderProxy, renderReplication } from './cluster-tables.js';
import type { LoadSettings } from './load-run.js';
import { masterLoadNote, runMasterPart, type MasterResults } from './master-part.js';
import { runDumpPart } from './dump-bench.js';
import { runGcPart } from './gc-part.js';
import { runSyncPart } from './sync-bench.js';
import { runFailoverPart } from './failover-bench.js';
import { runMirrorPart } from './mirror-bench.js';
import { nodeLogNotes } from './node-log-notes.js';
import { runPerfPart } from './perf-part.js';
import { emptyProxyResults, runProxyPart } from './proxy-part.js';
import { emptyReplicationResults, runReplicationPart } from './replication-part.js';
import { renderReport } from './results-table.js';
import { repoRoot } from '@wheelhouse/testing';

const PARTS = ['master', 'replication', 'proxy', 'mirror', 'dump', 'perf', 'gc', 'sync', 'failover'] as const;
type Part = (typeof PARTS)[number];
const LOAD: LoadSettings = { connections: 10, durationSeconds: 10 };

function parseParts(argv: readonly string[]): Part[] {
  let only: Part | undefined;
  for (const arg of argv) {
    const m = /^--only=(.*)$/.exec(arg);
    if (m && (PARTS as readonly string[]).includes(m[1]!)) only = m[1] as Part;
    else {
      process.stderr.write(`bench: unknown argument '${arg}'; usage: node bench/dist/index.js [--only=${PARTS.join('|')}]\n`);
      process.exit(2);
    }
  }
  return only ? [only] : [...PARTS];
}

function serverLogNotes(log: string): string[] {
  // the start-up banner (URL and the pip/twine lines) is not a warning
  const lines = log.split('\n').filter((l) => l.trim() !== '' && !/^(Wheelhouse master serving | {2}pip install )/.test(l));
  if (lines.length === 0) return [];
  const shown = lines.slice(0, 5).map((l) => `  \`${l.slice(0, 300)}\``);
  return [`server log (level warn) has ${lines.length} line(s); first ${shown.length}:\n${shown.join('\n')}`];
}

async function main(): Promise<void> {
  if (process.argv.includes('--only=search')) return void (await import('./search-bench.js')); // search: in memory, no cluster
  const parts = parseParts(process.argv.slice(2));
  const t0 = performance.now();
  const loadAtStart = loadavg();
  const cpuList = cpus();
  const machine = {
    date: new Date().toISOString(),
    cores: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown CPU',
    node: process.version,
    os: `${platform()} ${release()}`,
    memoryGiB: totalmem() / 2 ** 30,
  };
  const say = (s: string): void => void process.stderr.write(`bench: ${s}\n`);
  const cluster = new BenchCluster(say);
  const onSignal = (): void => {
    cluster.killNow();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const notes: string[] = [];
  const masterResults: MasterResults = { uploads: [], reads: [], twine: undefined, setup: [], notes: [] };
  const replication = emptyReplicationResults();
  const proxy = emptyProxyResults(LOAD);
  let perfSection: string | undefined;
  const stoppedEarly = (part: string, err: unknown): void => {
    if (err instanceof ServerStartError) {
      process.stderr.write(`bench: cannot start the server: ${err.message}\n`);
      cluster.killNow();
      process.exit(1);
    }
    notes.push(`${part} benchmark stopped early: ${(err as Error).stack ?? String(err)}`);
  };

  try {
    if (parts.includes('master')) {
      try {
        await runMasterPart(cluster, LOAD, say, masterResults);
      } catch (err) {
        stoppedEarly('master', err);
      }
    }
    if (parts.includes('replication')) {
      try {
        await runReplicationPart(cluster, LOAD, say, replication);
      } catch (err) {
        stoppedEarly('replication', err);
      }
    }
    if (parts.includes('proxy')) {
      try {
        await runProxyPart(cluster, LOAD, say, proxy);
      } catch (err) {
        stoppedEarly('proxy', err);
      }
    }
    if (parts.includes('perf')) {
      try {
        perfSection = await runPerfPart(cluster, say);
      } catch (err) {
        stoppedEarly('perf', err);
      }
    }
  } finally {
    const master = cluster.master;
    if (master?.unexpectedExit) notes.push(`**the master died during the run (${master.unexpectedExit})**`);
    const replica = cluster.replica;
    // the proxy part kills the replica on purpose; anything else is unexpected
    if (replica?.unexpectedExit) notes.push(`**the replica died during the run (${replica.unexpectedExit})**`);
    if (master) notes.push(...serverLogNotes(master.log()));
    if (replica) notes.push(...nodeLogNotes('replica', replica.log()));
    for (const n of cluster.others) {
      if (n.unexpectedExit) notes.push(`**${n.name} died during the run (${n.unexpectedExit})**`);
      notes.push(...nodeLogNotes(n.name, n.log()));
    }
    await cluster.stop();
  }

  const setup: string[] = [];
  if (!parts.includes('master') && cluster.ix) {
    setup.push(`master: one \`wheelhouse master\` (--log-level warn, fresh temp data dir), index \`${cluster.ix.indexPath}\` populated with 300 projects, 2,000 files (sdists of 1–12 KB, every tenth a wheel)`);
  }
  const loadAtEnd = loadavg();
  const la = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' / ');
  setup.push(`machine load average (1 / 5 / 15 min) at start ${la(loadAtStart)}, at end ${la(loadAtEnd)} — other work on this machine competes with every figure below`);
  if (parts.length < PARTS.length) setup.push(`part run: \`--only=${parts.join(',')}\``);
  const extraSections: string[] = [];
  if (parts.includes('replication')) extraSections.push(renderReplication(replication));
  if (parts.includes('proxy')) extraSections.push(renderProxy(proxy));
  if (parts.includes('mirror')) extraSections.push(await runMirrorPart(say, LOAD));
  if (parts.includes('dump')) extraSections.push(await runDumpPart(say));
  if (parts.includes('gc')) extraSections.push(await runGcPart(say));
  if (parts.includes('sync')) extraSections.push(await runSyncPart(say));
  if (parts.includes('failover')) extraSections.push(await runFailoverPart(say));
  if (perfSection) extraSections.push(perfSection);

  const report = renderReport({
    machine,
    setup: [...masterResults.setup, ...setup],
    uploads: masterResults.uploads,
    twine: masterResults.twine,
    reads: masterResults.reads,
    loadNote: masterLoadNote(LOAD, machine.cores),
    extraSections,
    notes: [...masterResults.notes, ...replication.notes, ...proxy.notes, ...notes],
    totalSeconds: (performance.now() - t0) / 1000,
  });
  process.stdout.write(report);
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, parts.length === PARTS.length ? 'latest.md' : `latest-${parts[0]!}.md`);
  writeFileSync(file, report);
  say(`written to ${file}`);
}

await main();
