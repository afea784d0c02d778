/**
 * The perf part (issue 13, `--only=perf`): the issue's table in one run. One project with three
 * files (an sdist, a 5 KB wheel, a 1.7 MB wheel) and one large project (a simple page of about
 * 1 MB) on a fresh master, a replica in sync with it and a `wheelhouse proxy` in front; nginx
 * (Debian's, one worker) serves the same bytes as static files and `proxy_pass`es to the same
 * replica with upstream keep-alive. Reference columns beside them: a bare node:http server answering
 * the same bytes from memory, a bare undici pass-through to the same replica, and devpi-server
 * 6.19.1 on the same uploads where it is installed (`devpi-reference.ts`). Every figure is loaded with wrk (1 thread, 32 connections, 3 s, three rounds, the median reported;
 * autocannon when wrk is absent) on each column in turn, and CPU µs per request are read from
 * /proc for each serving process. Ratios are computed within the run only: the machine is shared.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { waitProxyBackends } from '@wheelhouse/testing';
import { request } from 'undici';
import type { BenchCluster, Say } from './bench-cluster.js';
import { createBenchIndex } from './index-setup.js';
import { nginxBinary, NginxServer } from './nginx-server.js';
import { sdist, wheel } from './release-files.js';
import { waitInSync } from './replica-sync.js';
import { MirrorUpstream } from './mirror-upstream.js';
import { basicAuth, devpiAuth, runUploads } from './upload-runner.js';
import { ChildServer } from './child-server.js';
import { DEVPI_VENV, DevpiReference, devpiMissing } from './devpi-reference.js';
import { measure, wrkAvailable, type CpuProbe, type PerfLoad, type PerfOutcome } from './wrk-run.js';

export const PERF_LOAD: PerfLoad = { connections: 32, durationSeconds: 3 };
/** Before a cell's first round: connections opened, JIT warm. */
const WARM_UP: PerfLoad = { connections: 32, durationSeconds: 1 };
/**
 * Each cell is measured this many times, in rounds that visit the columns in a rotated order, and
 * reported by its median round: on a shared 2-core machine one 5 s run of a cell varied by a third
 * between runs of the bench, more than the differences it is meant to show.
 */
const ROUNDS = 3;
const PROJECT = 'perfpkg';
/** The large project: a page of the `root/pypi` mirror, from a local upstream (no uploads needed). */
const BIG_PROJECT = 'bigpage';
/** Releases of the large project on the upstream (a wheel and an sdist each): about 1 MB of PEP 503 HTML. */
const BIG_VERSIONS = 2_600;
const ROOT_PASSWORD = 'perf-root-password';
const JSON_ACCEPT = 'application/vnd.pypi.simple.v1+json';

type Column = 'nginx static' | 'node:http constant' | 'master' | 'replica' | 'Wheelhouse proxy' | 'undici pass-through' | 'nginx proxy' | 'devpi';
const COLUMNS: readonly Column[] = ['nginx static', 'node:http constant', 'master', 'replica', 'Wheelhouse proxy', 'undici pass-through', 'nginx proxy', 'devpi'];

interface Figure {
  readonly name: string;
  /** Path on a Wheelhouse node (and nginx proxy). */
  readonly path: string;
  /** Path on the nginx static server and the bare node:http one ('' none). */
  readonly staticPath: string;
  /** Path on devpi-server (undefined: not measured there). */
  readonly devpiPath?: string;
  readonly headers: Record<string, string>;
  /** Report bytes/s beside req/s. */
  readonly bytes?: boolean;
}

interface Cell {
  readonly outcome: PerfOutcome | undefined;
  readonly skipped?: string;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; headers: Record<string, string | string[] | undefined> }> {
  const res = await request(url, { headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, body, headers: res.headers };
}

async function mustGet(url: string, headers: Record<string, string> = {}): Promise<Buffer> {
  const r = await get(url, headers);
  if (r.status !== 200) throw new Error(`GET ${url} answered ${r.status}: ${r.body.toString().slice(0, 200)}`);
  return r.body;
}

function writeStatic(root: string, path: string, body: Buffer): void {
  const file = join(root, path.endsWith('/') ? `${path}index${path.startsWith('/json/') ? '.json' : '.html'}` : path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, body);
}

/** `list` rotated left by `by` places. */
function rotated<T>(list: readonly T[], by: number): T[] {
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

/** The round with the median throughput (its CPU figures with it), and the errors of all rounds. */
function medianRound(outcomes: readonly PerfOutcome[]): PerfOutcome {
  const sorted = [...outcomes].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  const mid = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return { ...mid, errors: outcomes.reduce((n, o) => n + o.errors, 0) };
}

const f0 = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? '—' : Math.round(n).toLocaleString('en-US'));
const ratio = (a: number | undefined, b: number | undefined): string => (a && b ? (a / b).toFixed(2) : '—');
const gbps = (b: number): string => `${(b / 1e9).toFixed(2)} GB/s`;

export interface PerfResults {
  readonly setup: string[];
  readonly notes: string[];
  figures: Figure[];
  cells: Map<string, Cell>;
  /** The large page: bytes on the wire plain and with gzip / br. */
  bigPage: { plainBytes: number; gzipBytes: number | undefined; brBytes: number | undefined } | undefined;
  /** Names of the large page's two figures (plain, gzip). */
  bigFigures?: [string, string];
}

export async function runPerfPart(cluster: BenchCluster, say: Say): Promise<string> {
  const r: PerfResults = { setup: [], notes: [], figures: [], cells: new Map(), bigPage: undefined };
  const upstream = await MirrorUpstream.start('/dev/null', BIG_VERSIONS);
  try {
    return await runWithUpstream(cluster, say, r, upstream);
  } finally {
    await upstream.stop();
  }
}

async function runWithUpstream(cluster: BenchCluster, say: Say, r: PerfResults, upstream: MirrorUpstream): Promise<string> {
  const nodes = cluster.nodes;
  const master = await nodes.startMaster('perf-master', ROOT_PASSWORD);
  const patch = await request(`${master.url}/root/pypi`, { method: 'PATCH', headers: { 'content-type': 'application/json', ...basicAuth('root', ROOT_PASSWORD) }, body: JSON.stringify({ mirror_url: upstream.simpleUrl }) });
  await patch.body.dump();
  if (patch.statusCode !== 200) throw new Error(`PATCH /root/pypi answered ${patch.statusCode}`);
  const ix = await createBenchIndex(master.url, 'perf', 'perf-password-0123', 'dev');
  const small = [sdist(PROJECT, '1.0', 3 * 1024), wheel(PROJECT, '1.0', 4 * 1024), wheel(PROJECT, '1.1', 1_700_000)];
  say(`perf: uploading ${small.length} files to ${master.url}${ix.indexPath}`);
  const up = await runUploads({ baseUrl: master.url, indexPath: ix.indexPath, authHeaders: devpiAuth(ix.user, ix.token), files: small, concurrency: 4, budgetMs: 120_000 });
  const bigPath = `/root/pypi/+simple/${BIG_PROJECT}/`;
  await mustGet(`${master.url}${bigPath}`, { accept: 'text/html' }); // the master fetches it from upstream once
  if (up.failed || up.skipped) r.notes.push(`perf: ${up.failed} uploads failed, ${up.skipped} skipped: ${[...up.errors.keys()].slice(0, 3).join('; ')}`);
  const replica = await nodes.startReplica('perf-replica', master, { timeoutMs: 120_000 });
  await waitInSync(master, replica, 180_000);
  const proxy = await nodes.proxy('perf-proxy', master, [replica]).start();
  await waitProxyBackends(proxy.url, { master: true, replica1: true });

  const page = `${ix.indexPath}+simple/${PROJECT}/`;
  const json = JSON.parse((await mustGet(`${replica.url}${page}`, { accept: JSON_ACCEPT })).toString()) as { files: { filename: string; url: string }[] };
  const fileUrl = (name: string): string => {
    const f = json.files.find((x) => x.filename === name);
    if (!f) throw new Error(`${name} not on ${page}`);
    return new URL(f.url, `${replica.url}${page}`).pathname;
  };
  const [wheel5k, wheelBig] = [small[1]!, small[2]!];
  r.figures.push(
    { name: `simple page HTML (${json.files.length} files)`, path: page, staticPath: `/simple/${PROJECT}/`, headers: { accept: 'text/html' } },
    { name: 'simple page PEP 691 JSON', path: page, staticPath: `/json/${PROJECT}/`, headers: { accept: JSON_ACCEPT } },
    { name: `${(wheel5k.content.length / 1024).toFixed(1)} KB wheel download`, path: fileUrl(wheel5k.filename), staticPath: `/files/${wheel5k.filename}`, headers: {} },
    { name: `${(wheelBig.content.length / 1e6).toFixed(1)} MB wheel download`, path: fileUrl(wheelBig.filename), staticPath: `/files/${wheelBig.filename}`, headers: {}, bytes: true },
  );

  let devpi: DevpiReference | undefined;
  let devpiSkip = devpiMissing() ?? '';
  if (!devpiSkip) {
    try {
      say('perf: starting devpi-server and uploading the same files');
      devpi = await DevpiReference.start(nodes.dir('perf-devpi'), 'perf', 'perf-password-0123', small);
      const [htmlFig, jsonFig, fig5k, figBig] = r.figures as [Figure, Figure, Figure, Figure];
      const devpiPage = `${devpi.indexPath}+simple/${PROJECT}/`;
      r.figures.splice(0, 4,
        { ...htmlFig, devpiPath: devpiPage },
        { ...jsonFig, devpiPath: devpiPage },
        { ...fig5k, devpiPath: await devpi.filePath(PROJECT, wheel5k.filename) },
        { ...figBig, devpiPath: await devpi.filePath(PROJECT, wheelBig.filename) },
      );
    } catch (err) {
      devpiSkip = `devpi-server did not start: ${(err as Error).message.slice(0, 200)}`;
      await devpi?.stop();
      devpi = undefined;
    }
  }

  // the same bytes as static files for nginx and the bare node:http server
  const staticRoot = nodes.dir('perf-static');
  // nginx's worker runs as an unprivileged user when started by root: the temp root must be readable
  chmodSync(nodes.root, 0o755);
  writeStatic(staticRoot, `/simple/${PROJECT}/`, await mustGet(`${replica.url}${page}`, { accept: 'text/html' }));
  writeStatic(staticRoot, `/json/${PROJECT}/`, await mustGet(`${replica.url}${page}`, { accept: JSON_ACCEPT }));
  writeStatic(staticRoot, `/files/${wheel5k.filename}`, wheel5k.content);
  writeStatic(staticRoot, `/files/${wheelBig.filename}`, wheelBig.content);

  const bigPlain = await get(`${replica.url}${bigPath}`, { accept: 'text/html' });
  const bigGz = await get(`${replica.url}${bigPath}`, { accept: 'text/html', 'accept-encoding': 'gzip' });
  const bigBr = await get(`${replica.url}${bigPath}`, { accept: 'text/html', 'accept-encoding': 'br, gzip' });
  r.bigPage = {
    plainBytes: bigPlain.body.length,
    gzipBytes: bigGz.headers['content-encoding'] === 'gzip' ? bigGz.body.length : undefined,
    brBytes: bigBr.headers['content-encoding'] === 'br' ? bigBr.body.length : undefined,
  };
  r.bigFigures = [`${(bigPlain.body.length / 1e6).toFixed(2)} MB simple page HTML, no Accept-Encoding`, 'same page, `Accept-Encoding: gzip`'];
  r.figures.push(
    { name: `${(bigPlain.body.length / 1e6).toFixed(2)} MB simple page HTML, no Accept-Encoding`, path: bigPath, staticPath: '', headers: { accept: 'text/html' }, bytes: true },
    { name: 'same page, `Accept-Encoding: gzip`', path: bigPath, staticPath: '', headers: { accept: 'text/html', 'accept-encoding': 'gzip' }, bytes: true },
  );

  const bin = nginxBinary();
  let nginx: NginxServer | undefined;
  let nginxSkip = bin ? '' : 'nginx not installed (`apt-get install -y nginx`)';
  if (bin) {
    try {
      nginx = await NginxServer.start(bin, { staticRoot, backendUrl: replica.url, prefix: nodes.dir('perf-nginx') });
    } catch (err) {
      nginxSkip = `nginx did not start: ${(err as Error).message.slice(0, 200)}`;
    }
  }
  const constant = await ChildServer.start('bare-static-server.js', [staticRoot]);
  const passthrough = await ChildServer.start('bare-passthrough.js', [replica.url]);
  const onSignal = (): void => nginx?.killNow();
  process.once('SIGINT', onSignal);
  try {
    const targets: Record<Column, { base: string | undefined; probes: Record<string, CpuProbe>; skip?: string }> = {
      'nginx static': { base: nginx?.staticUrl, probes: nginx ? { nginx } : {}, skip: nginxSkip },
      'node:http constant': { base: constant.url, probes: { node: constant } },
      master: { base: master.url, probes: { master } },
      replica: { base: replica.url, probes: { replica } },
      'Wheelhouse proxy': { base: proxy.url, probes: { proxy, replica } },
      'undici pass-through': { base: passthrough.url, probes: { passthrough, replica } },
      'nginx proxy': { base: nginx?.proxyUrl, probes: nginx ? { nginx, replica } : {}, skip: nginxSkip },
      devpi: { base: devpi?.url, probes: devpi ? { devpi } : {}, skip: devpiSkip },
    };
    const rounds = new Map<string, PerfOutcome[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const fig of r.figures) {
        for (const col of rotated(COLUMNS, round)) {
          const key = `${fig.name}|${col}`;
          const t = targets[col];
          const path = col === 'nginx static' || col === 'node:http constant' ? fig.staticPath : col === 'devpi' ? fig.devpiPath : fig.path;
          if (!path) continue;
          if (!t.base) {
            r.cells.set(key, { outcome: undefined, skipped: t.skip ?? '' });
            continue;
          }
          say(`perf: ${fig.name} on ${col} (round ${round + 1} of ${ROUNDS})`);
          if (round === 0) await measure(`${t.base}${path}`, fig.headers, WARM_UP, {});
          const all = rounds.get(key) ?? [];
          all.push(await measure(`${t.base}${path}`, fig.headers, PERF_LOAD, t.probes));
          rounds.set(key, all);
          r.cells.set(key, { outcome: medianRound(all) });
        }
      }
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    await nginx?.stop();
    await constant.stop();
    await passthrough.stop();
    await devpi?.stop();
  }
  r.setup.push(
    `fresh master, replica in sync, \`wheelhouse proxy\` (all --log-level warn) in front of both; project \`${PROJECT}\` (3 files), \`root/pypi\` mirroring a local upstream, its project \`${BIG_PROJECT}\` with ${BIG_VERSIONS * 2} files; nginx ${bin ? '(Debian, 1 worker, access log off, sendfile on)' : '—'} serves the same bytes as static files and proxy_passes to the same replica with upstream keep-alive`,
    `load: ${wrkAvailable ? 'wrk' : 'autocannon (wrk not installed: `apt-get install -y wrk`)'}, 1 thread, ${PERF_LOAD.connections} keep-alive connections, ${PERF_LOAD.durationSeconds} s per cell, one cell at a time; ${ROUNDS} rounds over all cells (the columns in a rotated order each round), each cell reported by its median round`,
    'reference columns: `node:http constant` is a bare node:http handler answering the same bytes from memory (the ceiling of Node\'s HTTP server here); `undici pass-through` is a bare node:http server forwarding to the same replica with undici dispatch() (the least a Node proxy does: no routing, health, retries, Via or metrics)',
    devpi ? `devpi column: devpi-server 6.19.1 from ${DEVPI_VENV}, the same three files uploaded` : `devpi column: skipped (${devpiSkip})`,
  );
  return renderPerf(r);
}

function cellText(c: Cell | undefined, bytes: boolean | undefined): string {
  if (!c) return '';
  if (!c.outcome) return `skipped: ${c.skipped ?? ''}`;
  const o = c.outcome;
  return `${f0(o.requestsPerSecond)}${bytes ? ` (${gbps(o.bytesPerSecond)})` : ''}${o.note ? ` ⚠ ${o.note}` : ''}`;
}

function cpuText(c: Cell | undefined): string {
  if (!c?.outcome) return '';
  return Object.entries(c.outcome.cpuMicros).map(([k, v]) => `${k} ${f0(v)}`).join(' + ');
}

export function renderPerf(r: PerfResults): string {
  const out: string[] = ['## Perf: Wheelhouse against nginx (issue 13)', ''];
  for (const s of r.setup) out.push(`- ${s}`);
  out.push('', '### Throughput, req/s (bytes/s for large bodies)', '');
  out.push(`| figure | ${COLUMNS.join(' | ')} |`, `|---|${COLUMNS.map(() => '---:').join('|')}|`);
  for (const f of r.figures) out.push(`| ${f.name} | ${COLUMNS.map((c) => cellText(r.cells.get(`${f.name}|${c}`), f.bytes)).join(' | ')} |`);
  out.push('', '### CPU µs per request, per serving process', '');
  out.push(`| figure | ${COLUMNS.join(' | ')} |`, `|---|${COLUMNS.map(() => '---:').join('|')}|`);
  for (const f of r.figures) out.push(`| ${f.name} | ${COLUMNS.map((c) => cpuText(r.cells.get(`${f.name}|${c}`))).join(' | ')} |`);
  out.push('', '### Ratios (same run)', '');
  out.push('| figure | Wheelhouse proxy ÷ nginx proxy (goal ≥ 0.8) | Wheelhouse proxy ÷ undici pass-through | undici pass-through ÷ nginx proxy | replica ÷ nginx static (goal ≥ 0.7) | node:http constant ÷ nginx static | replica ÷ master | replica ÷ devpi |', '|---|---:|---:|---:|---:|---:|---:|---:|');
  const v = (f: Figure, c: Column): number | undefined => {
    const o = r.cells.get(`${f.name}|${c}`)?.outcome;
    return o ? (f.bytes ? o.bytesPerSecond : o.requestsPerSecond) : undefined;
  };
  for (const f of r.figures) {
    const cells = [
      ratio(v(f, 'Wheelhouse proxy'), v(f, 'nginx proxy')), ratio(v(f, 'Wheelhouse proxy'), v(f, 'undici pass-through')), ratio(v(f, 'undici pass-through'), v(f, 'nginx proxy')),
      ratio(v(f, 'replica'), v(f, 'nginx static')), ratio(v(f, 'node:http constant'), v(f, 'nginx static')), ratio(v(f, 'replica'), v(f, 'master')), ratio(v(f, 'replica'), v(f, 'devpi')),
    ];
    out.push(`| ${f.name}${f.bytes ? ' (bytes/s)' : ''} | ${cells.join(' | ')} |`);
  }
  const b = r.bigPage;
  if (b) {
    const pct = (x: number | undefined): string => (x === undefined ? 'not compressed' : `${x.toLocaleString('en-US')} bytes (${((100 * x) / b.plainBytes).toFixed(1)}%)`);
    out.push('', `Large simple page on the wire: plain ${b.plainBytes.toLocaleString('en-US')} bytes; gzip ${pct(b.gzipBytes)}; br ${pct(b.brBytes)} (goal: gzip ≤ 15%). Each link carries a sha256 in hex (64 characters, 32 bytes of entropy no coder can remove): about ${((100 * 32 * BIG_VERSIONS * 2) / b.plainBytes).toFixed(1)}% of this page's plain size is the floor for any compression of it.`);
  }
  if (r.bigFigures) {
    out.push('', '### The large page with `Accept-Encoding: gzip` (compressed once per page and serial)', '', '| column | bytes on the wire per answer, plain → gzip | ratio (goal ≤ 0.15) | CPU µs per request plain → gzip (after the first) |', '|---|---:|---:|---:|');
    for (const col of ['replica', 'Wheelhouse proxy', 'master'] as const) {
      const [p, g] = r.bigFigures.map((n) => r.cells.get(`${n}|${col}`)?.outcome);
      if (!p || !g) continue;
      const [pw, gw] = [p.bytesPerSecond / p.requestsPerSecond, g.bytesPerSecond / g.requestsPerSecond];
      const cpu = (o: PerfOutcome): string => Object.entries(o.cpuMicros).map(([k, x]) => `${k} ${f0(x)}`).join(' + ');
      out.push(`| ${col} | ${f0(pw)} → ${f0(gw)} | ${(gw / pw).toFixed(3)} | ${cpu(p)} → ${cpu(g)} |`);
    }
  }
  if (r.notes.length) out.push('', ...r.notes.map((n) => `- ${n}`));
  out.push('');
  return out.join('\n');
}
