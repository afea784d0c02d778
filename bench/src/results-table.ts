/**
 * Renders the benchmark's figures as one markdown document: machine and date, upload table, read
 * table, the reference numbers from devpi-server 6.19 and nginx on the same machine with our
 * ratio to them, and notes (errors, unexpected statuses, server log warnings).
 */
import type { LoadOutcome } from './load-run.js';
import type { TwineOutcome } from './twine-run.js';
import type { UploadOutcome } from './upload-runner.js';

/** Reference figures from issue #2, item 7 (same 2-core machine). */
export const REFERENCE = {
  devpiSimplePage: 520,
  devpiFileDownload: 330,
  devpiTokenUploads: 45,
  devpiTwineUploads: [2.5, 3] as const,
  nginxPage: 35_000,
  nodeHttpPage: 25_000,
  express5Page: 7_000,
} as const;

export interface Machine {
  readonly date: string;
  readonly cores: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly os: string;
  readonly memoryGiB: number;
}

export interface UploadRow {
  readonly phase: string;
  readonly auth: string;
  readonly concurrency: number;
  readonly files: number;
  readonly outcome: UploadOutcome;
  /** devpi's files/s for the same kind of upload, as text, and its midpoint for the ratio. */
  readonly devpi?: { readonly text: string; readonly value: number };
}

export interface ReadRow {
  readonly outcome: LoadOutcome;
  readonly devpi?: number;
}

export interface Report {
  readonly machine: Machine;
  readonly setup: readonly string[];
  readonly uploads: readonly UploadRow[];
  readonly twine: TwineOutcome | undefined;
  readonly reads: readonly ReadRow[];
  readonly loadNote: string;
  /** Markdown sections (replication, proxy) placed after the master's tables, before the notes. */
  readonly extraSections: readonly string[];
  readonly notes: readonly string[];
  readonly totalSeconds: number;
}

export const f0 = (n: number): string => Math.round(n).toLocaleString('en-US');
export const f1 = (n: number): string => n.toFixed(1);
export const f2 = (n: number): string => n.toFixed(2);
const ratio = (ours: number, theirs: number): string => (theirs > 0 && ours > 0 ? `${(ours / theirs).toFixed(1)}×` : '—');
const pct = (ours: number, theirs: number): string => (ours > 0 ? `${((100 * ours) / theirs).toFixed(0)}%` : '—');

export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function msOrDash(v: number | undefined): string {
  return v === undefined ? '—' : f1(v);
}

export function renderReport(r: Report): string {
  const m = r.machine;
  const out: string[] = [];
  out.push('# Wheelhouse benchmark', '');
  out.push(`- date: ${m.date}`);
  out.push(`- machine: ${m.cores} cores (\`os.cpus().length\`), ${m.cpuModel}, ${m.memoryGiB.toFixed(1)} GiB RAM, ${m.os}`);
  out.push(`- node: ${m.node}`);
  for (const s of r.setup) out.push(`- ${s}`);
  out.push('');
  if (r.uploads.length || r.reads.length) out.push(...masterSections(r));
  for (const section of r.extraSections) out.push(section, '');

  out.push('## Notes', '');
  if (r.notes.length === 0) out.push('- none: every request answered as expected, no warnings in the server log.');
  for (const n of r.notes) out.push(`- ${n}`);
  out.push('', `Whole run: ${f1(r.totalSeconds)} s.`, '');
  return out.join('\n');
}

/** The master benchmark's uploads, reads and reference tables. */
function masterSections(r: Report): string[] {
  const out: string[] = [];
  out.push('## Uploads (legacy upload API, files/s)', '');
  out.push('| phase | auth | concurrency | files ok / sent | seconds | files/s | p50 ms | p99 ms | devpi 6.19 files/s | × devpi |');
  out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of r.uploads) {
    const o = row.outcome;
    const sent = o.ok + o.failed;
    out.push(
      `| ${row.phase} | ${row.auth} | ${row.concurrency} | ${o.ok} / ${sent}${o.skipped ? ` (${o.skipped} not sent: time budget)` : ''} | ${f2(o.seconds)} | **${f1(o.filesPerSecond)}** | ${msOrDash(percentile(o.latenciesMs, 50))} | ${msOrDash(percentile(o.latenciesMs, 99))} | ${row.devpi?.text ?? '—'} | ${row.devpi ? ratio(o.filesPerSecond, row.devpi.value) : '—'} |`,
    );
  }
  const tw = r.twine;
  if (tw?.ran) {
    const perSecond = tw.ok ? tw.files / tw.seconds : 0;
    const netSeconds = Math.max(0.001, tw.seconds - tw.startupSeconds);
    const net = tw.ok ? tw.files / netSeconds : 0;
    const mid = (REFERENCE.devpiTwineUploads[0] + REFERENCE.devpiTwineUploads[1]) / 2;
    out.push(
      `| real \`twine upload\` (wall, incl. ${f2(tw.startupSeconds)} s start-up) | Basic, password | 1 | ${tw.ok ? tw.files : 0} / ${tw.files} | ${f2(tw.seconds)} | **${f1(perSecond)}** | — | — | 2.5–3 | ${ratio(perSecond, mid)} |`,
    );
    out.push(`| real \`twine upload\` (start-up subtracted) | Basic, password | 1 | ${tw.ok ? tw.files : 0} / ${tw.files} | ${f2(netSeconds)} | ${f1(net)} | — | — | 2.5–3 | ${ratio(net, mid)} |`);
  }
  out.push('');
  const twineStyle = r.uploads.filter((u) => u.auth.startsWith('Basic')).map((u) => u.outcome.filesPerSecond);
  if (twineStyle.length) {
    const worst = Math.min(...twineStyle);
    out.push(`Target for twine-style uploads (HTTP Basic with the password on every file): ≥ 50 files/s — slowest measured ${f1(worst)} files/s: **${worst >= 50 ? 'met' : 'NOT met'}**.`, '');
  }

  out.push('## Reads', '');
  out.push(r.loadNote, '');
  const calibration = r.reads.find((row) => row.outcome.label.startsWith('calibration'))?.outcome.requestsPerSecond ?? 0;
  out.push('| endpoint | body bytes | req/s | p50 ms | p99 ms | server CPU µs/req | server RSS MiB | devpi 6.19 req/s | × devpi | % of nginx (35,000 req/s) | % of bare node:http here |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of r.reads) {
    const o = row.outcome;
    out.push(
      `| ${o.label}${o.note ? ` (${o.note})` : ''} | ${f0(o.bodyBytes)} | **${f0(o.requestsPerSecond)}** | ${f1(o.p50Ms)} | ${f1(o.p99Ms)} | ${o.cpuMicrosPerRequest === undefined ? '—' : f0(o.cpuMicrosPerRequest)} | ${o.rssBytes === undefined ? '—' : f0(o.rssBytes / 2 ** 20)} | ${row.devpi ? f0(row.devpi) : '—'} | ${row.devpi ? ratio(o.requestsPerSecond, row.devpi) : '—'} | ${pct(o.requestsPerSecond, REFERENCE.nginxPage)} | ${calibration ? pct(o.requestsPerSecond, calibration) : '—'} |`,
    );
  }
  out.push('');

  out.push('## Reference (issue #2, item 7; same 2-core machine)', '');
  out.push('| system | figure |');
  out.push('|---|---|');
  out.push(`| devpi-server 6.19 | ~${REFERENCE.devpiSimplePage} simple-page req/s, ~${REFERENCE.devpiFileDownload} file downloads/s, ~${REFERENCE.devpiTokenUploads} uploads/s with a login token, 2.5–3 uploads/s through twine |`);
  out.push(`| nginx, static 2.7 KB page, one process | ~${f0(REFERENCE.nginxPage)} req/s |`);
  out.push(`| bare \`node:http\` handler | ~${f0(REFERENCE.nodeHttpPage)} req/s |`);
  out.push(`| bare express 5 route | ~${f0(REFERENCE.express5Page)} req/s |`);
  out.push('', 'Goals: reads ≥ 10× devpi and ≥ 60% of nginx on the same bytes; ≥ 50 files/s through twine-style Basic auth.', '');
  return out;
}
