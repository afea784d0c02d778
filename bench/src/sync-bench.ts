/**
 * The acknowledged-means-replicated benchmark (issue 14), `--only=sync`: two master + replica pairs
 * on loopback, one master with `--sync-replicas 0` (asynchronous: the answer follows the master's
 * own fsynced commit) and one with `--sync-replicas 1` (the answer waits until the replica applied,
 * fsynced and confirmed the record and stored the file). Both masters fsync their commits. Uploads
 * (legacy `file_upload` forms of 1–8 KB sdists and wheels, a token, a keep-alive pool) run in
 * rounds that alternate between the pairs, so machine load falls on both alike: one client for
 * latency (p50/p99), four clients for files/s. Returns one markdown section; never throws (a failure
 * becomes a note in the section).
 */
import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { TestRoot, type WheelhouseProcess } from '@wheelhouse/testing';
import { createBenchIndex, type BenchIndex } from './index-setup.js';
import { newFiles, type ReleaseFile } from './release-files.js';
import { f0, f1, f2, percentile } from './results-table.js';
import { basicAuth, runUploads } from './upload-runner.js';

type Say = (s: string) => void;

const ROUNDS = 6;
const LATENCY_FILES = 50;
const THROUGHPUT_FILES = 100;
const PROJECTS = 40;

interface Pair {
  readonly syncReplicas: number;
  readonly master: WheelhouseProcess;
  readonly replica: WheelhouseProcess;
  readonly ix: BenchIndex;
  readonly latencies: number[];
  serialSeconds: number;
  serialFiles: number;
  parallelSeconds: number;
  parallelFiles: number;
  failed: number;
  errors: Map<string, number>;
}

async function startPair(root: TestRoot, syncReplicas: number): Promise<Pair> {
  const master = await root.startMaster(`sync${syncReplicas}-master`, 'bench-root-password', { args: ['--sync-replicas', String(syncReplicas)], logLevel: 'warn' });
  const replica = await root.startReplica(`sync${syncReplicas}-replica`, master);
  const ix = await createBenchIndex(master.url, 'bench', 'bench-password', 'dev');
  return { syncReplicas, master, replica, ix, latencies: [], serialSeconds: 0, serialFiles: 0, parallelSeconds: 0, parallelFiles: 0, failed: 0, errors: new Map() };
}

async function uploads(pair: Pair, files: readonly ReleaseFile[], concurrency: number) {
  const out = await runUploads({ baseUrl: pair.master.url, indexPath: pair.ix.indexPath, authHeaders: basicAuth(pair.ix.user, pair.ix.token), files, concurrency, budgetMs: 120_000 });
  pair.failed += out.failed;
  for (const [k, v] of out.errors) pair.errors.set(k, (pair.errors.get(k) ?? 0) + v);
  return out;
}

/** p50 of 50 fsyncs of a 4 KiB write in `dir`, ms: the floor under every durable step of both paths. */
function fsyncP50Ms(dir: string): number {
  const path = join(dir, 'fsync-probe');
  const fd = openSync(path, 'w');
  const times: number[] = [];
  try {
    for (let i = 0; i < 50; i++) {
      writeSync(fd, Buffer.alloc(4096));
      const t0 = performance.now();
      fsyncSync(fd);
      times.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
    unlinkSync(path);
  }
  return percentile(times, 50) ?? 0;
}

/** Runs the part (see module doc). */
export async function runSyncPart(say: Say): Promise<string> {
  const root = new TestRoot('bench-sync');
  const notes: string[] = [];
  let rows: string[] = [];
  try {
    notes.push(`fsync of a 4 KiB write on the data directories' disk: p50 ${f2(fsyncP50Ms(root.dir('.')))} ms — the replica's confirmation needs its changelog fsync and, for the file, a file and a directory fsync (the first overlaps the others)`);
    say('sync: starting two master + replica pairs (--sync-replicas 0 and 1)');
    const pairs = [await startPair(root, 0), await startPair(root, 1)];
    for (const p of pairs) await uploads(p, newFiles(PROJECTS, 20, '0.9'), 1);
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? pairs : [...pairs].reverse();
      for (const p of order) {
        const serial = await uploads(p, newFiles(PROJECTS, LATENCY_FILES, `${round + 1}.1`), 1);
        p.latencies.push(...serial.latenciesMs);
        p.serialSeconds += serial.seconds;
        p.serialFiles += serial.ok;
        const parallel = await uploads(p, newFiles(PROJECTS, THROUGHPUT_FILES, `${round + 1}.2`), 4);
        p.parallelSeconds += parallel.seconds;
        p.parallelFiles += parallel.ok;
      }
      say(`sync: round ${round + 1}/${ROUNDS} done`);
    }
    const base = percentile(pairs[0]!.latencies, 50) ?? 0;
    rows = pairs.map((p) => {
      const p50 = percentile(p.latencies, 50) ?? 0;
      const p99 = percentile(p.latencies, 99) ?? 0;
      return `| ${p.syncReplicas} | ${p.latencies.length} | ${f2(p50)} | ${f2(p99)} | ${f1(p.serialFiles / p.serialSeconds)} | ${f1(p.parallelFiles / p.parallelSeconds)} | ${p.syncReplicas === 0 ? '—' : `${p50 - base >= 0 ? '+' : ''}${f2(p50 - base)}`} | ${p.failed} |`;
    });
    const syncStatus = (await pairs[1]!.master.status()) as { 'sync-replication'?: { timeouts?: number; 'degraded-writes'?: number; 'last-ack-lag-ms'?: number | null } };
    const s = syncStatus['sync-replication'];
    notes.push(`the --sync-replicas 1 master: ${f0(s?.timeouts ?? 0)} sync timeouts, ${f0(s?.['degraded-writes'] ?? 0)} degraded writes, last wait for the replica's confirmation ${s?.['last-ack-lag-ms'] ?? '—'} ms`);
    for (const p of pairs) for (const [k, v] of p.errors) notes.push(`--sync-replicas ${p.syncReplicas}: ${v} × ${k}`);
    await root.cleanup();
  } catch (err) {
    notes.push(`sync benchmark stopped early: ${(err as Error).stack ?? String(err)}`);
    await root.cleanup().catch(() => undefined);
  }
  return [
    '## Acknowledged means replicated: upload latency with --sync-replicas 1 vs 0',
    '',
    `Master + one replica on loopback, both fsyncing; ${ROUNDS} alternating rounds of ${LATENCY_FILES} uploads by one client (latency) and ${THROUGHPUT_FILES} by four clients (files/s); 1–8 KB files. Target: ≤ 2 ms added at p50.`,
    '',
    '| --sync-replicas | uploads timed | p50 ms | p99 ms | files/s (1 client) | files/s (4 clients) | added at p50, ms | failed |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
}
