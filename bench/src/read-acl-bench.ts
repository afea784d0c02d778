/**
 * Read-restricted index benchmark (a program, not a test; issue 15): one in-process master with an
 * open index and a read-restricted one (`acl_read: [bob]`) holding the same wheel; autocannon (a
 * child process) loads each index's simple page and release file — the open ones anonymously, the
 * restricted ones as bob with `Authorization: Basic` (password verified once, then the
 * verification cache). Prints a markdown table (machine, load, date, req/s, p50/p99, server CPU µs
 * per request, ratio against the open index measured in the same run) and writes it to
 * bench/results/latest-read-acl.md. The open index's rows are what every index had before read
 * ACLs; its cost of the read gate is one URL split and one map lookup.
 *
 * `node bench/dist/read-acl-bench.js [--seconds=N] [--connections=N]`.
 */
import { cpus, loadavg, platform, release, tmpdir } from 'node:os';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino } from 'pino';
import type { Changelog } from '@wheelhouse/changelog';
import { Authenticator, createReadGate, ReadAccess, TokenSigner } from '@wheelhouse/core';
import { createMasterApp, initDatadir } from '@wheelhouse/master';
import { buildWheel, legacyUploadBody, repoRoot } from '@wheelhouse/testing';
import { runLoad, type LoadOutcome, type LoadTarget } from './load-run.js';

function arg(name: string, fallback: number): number {
  const m = process.argv.map((a) => new RegExp(`^--${name}=(\\d+)$`).exec(a)).find(Boolean);
  return m ? Number(m[1]) : fallback;
}

const basic = (user: string, pw: string): string => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;

async function call(url: string, method: string, body: string | Blob, headers: Record<string, string>): Promise<void> {
  const r = await fetch(url, { method, body, headers });
  if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${await r.text()}`);
}

/** Mean ns of one read-gate decision for `url` (a fresh gate on the master's changelog). */
async function gateNanos(changelog: Changelog, url: string, authorization: string | undefined): Promise<number> {
  const access = new ReadAccess(changelog);
  const gate = createReadGate({ access, auth: new Authenticator(changelog, new TokenSigner(Buffer.alloc(32, 1))) });
  const res = { writeHead: () => res, setHeader: () => res } as unknown as ServerResponse;
  const n = authorization ? 20_000 : 1_000_000;
  const reqs = Array.from({ length: 64 }, () => ({ method: 'GET', url, headers: authorization ? { authorization } : {}, socket: { remoteAddress: '127.0.0.1' } }) as unknown as IncomingMessage);
  // requests are fresh objects in real traffic: a request's principal is resolved once per request
  const fresh = (i: number): IncomingMessage => (authorization ? ({ ...reqs[i % 64]! } as IncomingMessage) : reqs[i % 64]!);
  await gate(fresh(0), res);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const wait = gate(fresh(i), res);
    if (wait) await wait;
  }
  const ns = Number(process.hrtime.bigint() - start) / n;
  access.close();
  return ns;
}

async function main(): Promise<void> {
  const seconds = arg('seconds', 5);
  const connections = arg('connections', 10);
  const datadir = mkdtempSync(join(tmpdir(), 'wh-readacl-bench-'));
  await initDatadir({ datadir, rootPassword: 'rootpw' });
  const app = await createMasterApp({ datadir, host: '127.0.0.1', port: 0, maxFileBytes: 1 << 26, syncCommits: false, logger: pino({ level: 'silent' }) });
  const port = await app.listen();
  const base = `http://127.0.0.1:${port}`;
  try {
    const alice = basic('alice', 'alice-pw');
    await call(`${base}/alice`, 'PUT', JSON.stringify({ password: 'alice-pw' }), {});
    await call(`${base}/bob`, 'PUT', JSON.stringify({ password: 'bob-pw' }), {});
    const whl = buildWheel('bench-lib', '1.0');
    const files: Record<string, string> = {};
    for (const [index, cfg] of [['open', {}], ['private', { acl_read: ['bob'] }]] as const) {
      await call(`${base}/alice/${index}`, 'PUT', JSON.stringify(cfg), { authorization: alice });
      const { contentType, body } = legacyUploadBody({ name: 'bench-lib', version: '1.0', filename: whl.filename, content: whl.content, minimal: true });
      await call(`${base}/alice/${index}/`, 'POST', new Blob([body]), { 'content-type': contentType, authorization: alice });
      const page = await fetch(`${base}/alice/${index}/+simple/bench-lib/`, { headers: { accept: 'application/vnd.pypi.simple.v1+json', authorization: basic('bob', 'bob-pw') } });
      const url = ((await page.json()) as { files: Array<{ url: string }> }).files[0]!.url;
      files[index] = new URL(url, `${base}/alice/${index}/+simple/bench-lib/`).toString();
    }
    const bob = basic('bob', 'bob-pw');
    const targets: LoadTarget[] = [
      { label: 'open index: simple page (anonymous)', url: `${base}/alice/open/+simple/bench-lib/` },
      { label: 'restricted index: simple page (bob)', url: `${base}/alice/private/+simple/bench-lib/`, authorization: bob },
      { label: 'open index: release file (anonymous)', url: files['open']! },
      { label: 'restricted index: release file (bob)', url: files['private']!, authorization: bob },
    ];
    const cpu = (): number => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    };
    const rows: LoadOutcome[] = [];
    for (const t of targets) rows.push(await runLoad(t, { connections, durationSeconds: seconds }, { rssBytes: () => process.memoryUsage().rss, cpuSeconds: cpu }));
    const fmt = (n: number | undefined, d = 0): string => (n === undefined ? '—' : n.toFixed(d));
    const lines = [
      `# Read-restricted index benchmark`,
      '',
      `${new Date().toISOString()} · ${platform()} ${release()} · ${cpus().length} × ${cpus()[0]?.model ?? '?'} · load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} · ${connections} connections, ${seconds} s each`,
      '',
      '| target | req/s | p50 ms | p99 ms | server CPU µs/req | req/s vs open | note |',
      '|---|---:|---:|---:|---:|---:|---|',
    ];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const reference = rows[i - (i % 2)]!;
      lines.push(`| ${r.label} | ${fmt(r.requestsPerSecond)} | ${fmt(r.p50Ms, 1)} | ${fmt(r.p99Ms, 1)} | ${fmt(r.cpuMicrosPerRequest)} | ${fmt(r.requestsPerSecond / reference.requestsPerSecond, 2)} | ${r.note || `status ${r.status}, ${r.bodyBytes} bytes`} |`);
    }
    lines.push('', '| read gate decision, in-process (no socket) | ns/request |', '|---|---:|');
    for (const [label, url, authorization] of [
      ['open index (anonymous): URL split + map lookup', '/alice/open/+simple/bench-lib/', undefined],
      ['restricted index (bob, cached password check)', '/alice/private/+simple/bench-lib/', bob],
    ] as const) lines.push(`| ${label} | ${fmt(await gateNanos(app.changelog, url, authorization))} |`);
    const report = `${lines.join('\n')}\n`;
    process.stdout.write(report);
    const dir = join(repoRoot, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'latest-read-acl.md'), report);
  } finally {
    await app.close();
    rmSync(datadir, { recursive: true, force: true });
  }
}

await main();
