/**
 * Search benchmark (a program, not a test): an in-memory store with 10,000 projects named and
 * summarised like PyPI's popular projects (`shared/data/pypi-popular-projects.tsv.gz`), spread over
 * four indexes, with descriptions of about 1.5 KB each; the web interface's search index is built
 * from it, then a fixed mix of queries (summary words, two-word queries, names, prefixes, typos)
 * is timed one by one. Prints a markdown table (machine, date, build time, p50/p95/p99/max) and
 * writes it to bench/results/latest-search.md. Target: p95 under 50 ms.
 *
 * `node bench/dist/search-bench.js [--projects=N] [--queries=N]` (or `npm run bench -- --only=search`).
 */
import { cpus, platform, release } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Changelog } from '@wheelhouse/changelog';
import { SearchIndex, createIndex, createUser, registerRelease } from '@wheelhouse/core';
import { repoRoot, sharedDataFile } from '@wheelhouse/testing';

const DATA_CANDIDATES = [sharedDataFile('pypi-popular-projects.tsv.gz')];
const INDEXES = ['alice/dev', 'alice/prod', 'bob/dev', 'team/stable'];

function arg(name: string, fallback: number): number {
  const m = process.argv.map((a) => new RegExp(`^--${name}=(\\d+)$`).exec(a)).find(Boolean);
  return m ? Number(m[1]) : fallback;
}

/** A small deterministic PRNG (mulberry32), so every run times the same queries. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Row {
  name: string;
  version: string;
  summary: string;
}

function loadRows(): Row[] {
  const path = DATA_CANDIDATES.find((p) => existsSync(p));
  if (!path) throw new Error(`data set not found (looked in ${DATA_CANDIDATES.join(', ')})`);
  const lines = gunzipSync(readFileSync(path)).toString('utf8').split('\n').slice(1);
  return lines
    .map((l) => l.split('\t'))
    .filter((c) => c.length >= 3 && c[0])
    .map(([name, version, summary]) => ({ name: name!, version: version || '1.0', summary: summary ?? '' }));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const projects = arg('projects', 10_000);
  const queryCount = arg('queries', 2_000);
  const rand = rng(42);
  const rows = loadRows();
  const say = (s: string): void => void process.stderr.write(`search-bench: ${s}\n`);
  say(`${rows.length} rows in the data set; building a store with ${projects} projects`);

  const store = await Changelog.openInMemory();
  const words = rows.flatMap((r) => r.summary.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length >= 4));
  const description = (r: Row): string => {
    const parts = [`# ${r.name}`, '', r.summary, ''];
    while (parts.join('\n').length < 1500) parts.push(rows[Math.floor(rand() * rows.length)]!.summary);
    return parts.join('\n');
  };
  const t0 = performance.now();
  await store.write((tx) => {
    for (const u of new Set(INDEXES.map((s) => s.split('/')[0]!))) createUser(tx, u, {});
    for (const s of INDEXES) createIndex(tx, s.split('/')[0]!, s.split('/')[1]!, {});
  });
  const chosen: Row[] = [];
  for (let i = 0; i < projects; i++) {
    const base = rows[i % rows.length]!;
    chosen.push(i < rows.length ? base : { ...base, name: `${base.name}-${Math.floor(i / rows.length)}` });
  }
  for (let start = 0; start < chosen.length; start += 1000) {
    await store.write((tx) => {
      chosen.slice(start, start + 1000).forEach((r, k) => {
        const stage = INDEXES[(start + k) % INDEXES.length]!;
        registerRelease(tx, stage, { name: r.name, version: r.version, summary: r.summary, description: description(r), description_content_type: 'text/markdown', keywords: r.name.split(/[-_.]/).join(',') });
      });
    });
  }
  const storeMs = performance.now() - t0;

  const t1 = performance.now();
  const search = new SearchIndex(store);
  search.flush();
  const buildMs = performance.now() - t1;
  const heapMiB = process.memoryUsage().heapUsed / 2 ** 20;
  say(`store ${storeMs.toFixed(0)} ms, search index of ${search.size} documents built in ${buildMs.toFixed(0)} ms`);

  const kinds: Array<[string, () => string]> = [
    ['one summary word', () => words[Math.floor(rand() * words.length)]!],
    ['two summary words', () => `${words[Math.floor(rand() * words.length)]!} ${words[Math.floor(rand() * words.length)]!}`],
    ['project name', () => chosen[Math.floor(rand() * chosen.length)]!.name],
    ['prefix (3 letters)', () => words[Math.floor(rand() * words.length)]!.slice(0, 3)],
    ['word with a typo', () => {
      const w = words[Math.floor(rand() * words.length)]!;
      const at = 1 + Math.floor(rand() * (w.length - 2));
      return w.slice(0, at) + w.slice(at + 1);
    }],
  ];
  // warm-up (JIT), not timed
  for (let i = 0; i < 200; i++) search.search(kinds[i % kinds.length]![1]());
  const byKind = new Map<string, number[]>(kinds.map(([k]) => [k, []]));
  const all: number[] = [];
  let hits = 0;
  for (let i = 0; i < queryCount; i++) {
    const [kind, make] = kinds[i % kinds.length]!;
    const q = make();
    const s = performance.now();
    const answer = search.search(q);
    const ms = performance.now() - s;
    if (answer.hits.length) hits++;
    byKind.get(kind)!.push(ms);
    all.push(ms);
  }
  const fmt = (ms: number): string => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
  const line = (label: string, xs: number[]): string => {
    const s = [...xs].sort((a, b) => a - b);
    return `| ${label} | ${s.length} | ${fmt(percentile(s, 50))} | ${fmt(percentile(s, 95))} | ${fmt(percentile(s, 99))} | ${fmt(s[s.length - 1]!)} |`;
  };
  const sortedAll = [...all].sort((a, b) => a - b);
  const p95 = percentile(sortedAll, 95);
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const report = [
    '# Wheelhouse search benchmark',
    '',
    `${new Date().toISOString()} · ${cpus().length} × ${cpu} · Node ${process.version} · ${platform()} ${release()}`,
    '',
    `Store: ${search.size} projects (PyPI popular-project names and summaries, ~1.5 KB descriptions) in ${INDEXES.length} indexes, in memory. ` +
      `Search index built in ${fmt(buildMs)} ms (store written in ${fmt(storeMs)} ms); heap after build ${heapMiB.toFixed(0)} MiB. ` +
      `${queryCount} queries after 200 warm-up queries; ${hits} had hits.`,
    '',
    '| query kind | queries | p50 ms | p95 ms | p99 ms | max ms |',
    '|---|---:|---:|---:|---:|---:|',
    ...kinds.map(([k]) => line(k, byKind.get(k)!)),
    line('**all**', all),
    '',
    `Target p95 < 50 ms: ${p95 < 50 ? 'met' : '**not met**'} (${fmt(p95)} ms).`,
    '',
  ].join('\n');
  process.stdout.write(report);
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest-search.md'), report);
  say(`written to ${join(dir, 'latest-search.md')}`);
  search.close();
  await store.close();
}

await main();
