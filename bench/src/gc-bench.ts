/**
 * `node bench/dist/gc-bench.js [files] [bytes]`: garbage collection throughput (issue 16), a program
 * apart from `npm run bench`'s parts. A file store under the OS temp dir is filled with `files`
 * unnamed blobs of `bytes` each (default 5,000 × 16 KiB) beside as many named ones; one
 * `BlobCollector` run scans all and removes the unnamed ones. Prints files/s and MB/s removed, the
 * scan's share, and the event-loop delay (p50/p99/max) while it runs — what a read served by the
 * same process waits at most. Then the retention selection for one project with 5,000 dev versions.
 */
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Changelog, FileStore } from '@wheelhouse/changelog';
import { BlobCollector, versionsToRemove } from '@wheelhouse/core';

const files = Number(process.argv[2] ?? 5_000);
const bytes = Number(process.argv[3] ?? 16 * 1024);

const dir = await mkdtemp(join(tmpdir(), 'wh-gc-bench-'));
const store = new FileStore(join(dir, 'files'));
const changelog = await Changelog.openInMemory();
const old = new Date(Date.now() - 2 * 3_600_000);
const named: string[] = [];
for (let i = 0; i < 2 * files; i++) {
  const { sha256 } = await store.putBytes(randomBytes(bytes));
  await utimes(store.pathFor(sha256), old, old);
  if (i % 2 === 0) named.push(sha256);
}
await changelog.write((tx) => {
  for (const sha of named) tx.set(`file/b/dev/${sha.slice(0, 3)}/${sha.slice(3, 16)}/p-${sha.slice(0, 8)}.tar.gz`, { sha256: sha, size: bytes, project: 'p', version: '1', rel: 'releasefile', modified: 0 });
});

const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
const gc = new BlobCollector({ state: changelog, files: store, followers: () => [] });
const t0 = performance.now();
const report = await gc.run();
const seconds = (performance.now() - t0) / 1000;
delay.disable();

const ms = (ns: number): string => (ns / 1e6).toFixed(1);
const rows = [
  ['blobs in store', String(report.storedFiles)],
  ['removed', `${report.freedFiles} (${(report.freedBytes / 1e6).toFixed(1)} MB)`],
  ['wall time (scan + sweep)', `${(seconds * 1000).toFixed(0)} ms`],
  ['removed per second', `${(report.freedFiles / seconds).toFixed(0)} files/s, ${(report.freedBytes / 1e6 / seconds).toFixed(1)} MB/s`],
  ['scanned per second', `${(report.storedFiles / seconds).toFixed(0)} files/s`],
  ['event-loop delay during the run', `p50 ${ms(delay.percentile(50))} ms, p99 ${ms(delay.percentile(99))} ms, max ${ms(delay.max)} ms`],
];
const versions = Array.from({ length: 5_000 }, (_, i) => ({ version: `1.0.dev${i}`, uploaded: i }));
const s0 = performance.now();
const removals = versionsToRemove(versions, { keep_dev_releases: 10 }, Date.now());
rows.push(['retention selection, 5,000 dev versions keep 10', `${removals.length} removals chosen in ${(performance.now() - s0).toFixed(1)} ms`]);

process.stdout.write(`## Garbage collection (${new Date().toISOString()}, ${cpus().length} CPUs, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}, ${files} × ${bytes} B unnamed)\n\n| measure | value |\n|---|---|\n`);
for (const [k, v] of rows) process.stdout.write(`| ${k} | ${v} |\n`);
await changelog.close();
await rm(dir, { recursive: true, force: true });
