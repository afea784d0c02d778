/**
 * The automatic-failover benchmark (issue 14), `--only=failover`: `DRILLS` drills, each on a fresh
 * loopback cluster (`FailoverCluster`: a master and two replicas with `--etcd`, the proxy following
 * the leader key; default 5 s lease) beside one local etcd from PATH. Two raw uploaders write
 * through the proxy; the master is SIGKILLed; timed from the kill to the first successful upload
 * SENT after the kill, and from the kill to the promotion's log line on the new master. Prints
 * p50/max over the drills. Returns one markdown section; never throws (a failure becomes a note).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalEtcd } from '@wheelhouse/failover';
import { ApiClient, buildSdist, FailoverCluster, legacyUploadBody, sleep, waitFor, authHeaders } from '@wheelhouse/testing';
import { f1, percentile } from './results-table.js';

const DRILLS = 5;
const USER = 'bench';
const PASSWORD = 'bench-pw';
const INDEX = `${USER}/dev`;

type Say = (s: string) => void;

interface Drill {
  /** SIGKILL → first successful upload sent after it, ms. */
  readonly firstUploadMs: number;
  /** SIGKILL → the new master's "promoted in place" line, ms (undefined when not found). */
  readonly promotedMs: number | undefined;
  /** Uploads answered non-200 meanwhile. */
  readonly refused: number;
}

async function upload(proxyUrl: string, version: string): Promise<number> {
  const sdist = buildSdist('wh-failover-bench', version);
  const { contentType, body } = legacyUploadBody({ name: sdist.name, version, filename: sdist.filename, content: sdist.content, summary: 'failover bench' });
  try {
    const res = await fetch(`${proxyUrl}/${INDEX}/`, { method: 'POST', headers: { 'Content-Type': contentType, ...authHeaders({ user: USER, password: PASSWORD }) }, body, signal: AbortSignal.timeout(30_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

async function drill(etcdUrl: string, n: number, say: Say): Promise<Drill> {
  const cluster = await FailoverCluster.start({ label: `failover-bench-${n}`, rootPassword: 'bench-root', etcdUrl });
  try {
    const api = new ApiClient(cluster.proxy.url);
    await api.as({ user: 'root', password: 'bench-root' }).put(`/${USER}`, { password: PASSWORD, email: 'b@example.org' });
    await api.as({ user: USER, password: PASSWORD }).put(`/${INDEX}`, { type: 'stage', bases: [], volatile: true });
    let version = 0;
    let stop = false;
    let killedAt = Infinity;
    let firstAfter: number | undefined;
    let refused = 0;
    const uploader = async (): Promise<void> => {
      while (!stop) {
        const sentAt = performance.now();
        const status = await upload(cluster.proxy.url, `1.${n}.${version++}`);
        if (status === 200 && sentAt > killedAt && firstAfter === undefined) firstAfter = performance.now() - killedAt;
        if (status !== 200) {
          if (sentAt > killedAt) refused++;
          await sleep(50);
        }
      }
    };
    const loops = [uploader(), uploader()];
    await sleep(2_000);
    const wallKilledAt = Date.now();
    killedAt = performance.now();
    await cluster.master.kill('SIGKILL');
    await waitFor(() => firstAfter !== undefined, { timeoutMs: 60_000, what: 'an upload to succeed after the kill' }).catch(() => undefined);
    stop = true;
    await Promise.all(loops);
    let promotedMs: number | undefined;
    for (const r of cluster.replicas) {
      const line = r.log().split('\n').find((l) => l.includes('promoted in place'));
      const time = line ? (JSON.parse(line) as { time?: number }).time : undefined;
      if (time) promotedMs = time - wallKilledAt;
    }
    say(`failover drill ${n}: first upload ${firstAfter === undefined ? 'never' : `${Math.round(firstAfter)} ms`} after the SIGKILL`);
    return { firstUploadMs: firstAfter ?? Number.NaN, promotedMs, refused };
  } finally {
    await cluster.stop();
  }
}

/** Runs the part (see module doc). */
export async function runFailoverPart(say: Say): Promise<string> {
  const lines = ['## Automatic failover (etcd)', ''];
  if (spawnSync('etcd', ['--version']).status !== 0) return [...lines, 'skipped: etcd is not on PATH (apt-get install etcd-server)', ''].join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'wh-bench-etcd-'));
  const etcd = await startLocalEtcd(join(dir, 'etcd'));
  const drills: Drill[] = [];
  const notes: string[] = [];
  const loadBefore = loadavg()[0]!;
  try {
    for (let i = 1; i <= DRILLS; i++) {
      try {
        drills.push(await drill(etcd.url, i, say));
      } catch (err) {
        notes.push(`drill ${i} failed: ${(err as Error).message}`);
      }
    }
  } finally {
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const ok = drills.map((d) => d.firstUploadMs).filter((x) => Number.isFinite(x));
  const promoted = drills.map((d) => d.promotedMs).filter((x): x is number => x !== undefined);
  const s = (v: number | undefined): string => (v === undefined ? '—' : f1(v / 1000));
  lines.push(
    `${drills.length} drills, each a fresh master + 2 replicas with \`--etcd\` (lease 5 s) and the proxy; 2 uploaders through the proxy; the master SIGKILLed. Load average (1 min) ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after.`,
    '',
    '| from the SIGKILL to | p50 s | max s | target |',
    '|---|---|---|---|',
    `| the new master promoted (its log) | ${s(percentile(promoted, 50))} | ${s(promoted.length ? Math.max(...promoted) : undefined)} | |`,
    `| the first successful upload through the proxy | ${s(percentile(ok, 50))} | ${s(ok.length ? Math.max(...ok) : undefined)} | ≤ 10 s |`,
    '',
    `Per drill (s): ${drills.map((d) => `${s(d.firstUploadMs)} (${d.refused} refused meanwhile)`).join(', ')}.`,
    ...notes.map((n) => `- ${n}`),
    '',
  );
  return lines.join('\n');
}
