/**
 * `wheelhouse cluster`: the one-command local cluster — a master, a replica and a proxy on this
 * machine, each its own process (so one can die without the others), started from one data
 * directory (`<datadir>/master`, `<datadir>/replica`; the master's is initialised with index
 * `root/dev` on first run). Prints the one URL to give pip and twine; a crashed node is restarted,
 * unless it crashed `CRASH_LIMIT` times in a row, each within `CRASH_WINDOW_MS` of its start (a node
 * that cannot start: its data directory in use, its port taken): then the cluster stops with that node's last stderr line
 * as the reason and exit status 1. Ctrl-C stops all three cleanly.
 *
 * With `failover` (`wheelhouse cluster --failover`) it also starts a one-member etcd from PATH
 * (`<datadir>/etcd`, loopback ports) and a second replica, and every node gets `--etcd`: kill the
 * master and a replica is elected and promotes itself; the old master, restarted, stays fenced
 * until `wheelhouse rejoin` (docs/operations.md, "Automatic failover with etcd").
 * The master runs with `--sync-replicas 1`: the local replica counts, so every acknowledged write
 * is on it too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Changelog } from '@wheelhouse/changelog';
import { createIndex } from '@wheelhouse/core';
import { datadirPaths, initDatadir } from '@wheelhouse/master';

/** Options of the cluster. */
export interface ClusterOptions {
  datadir: string;
  host: string;
  /** The proxy's port; the master gets port+1, the replica port+2. */
  port: number;
  /** Path of the `wheelhouse` entry script to run the nodes with. */
  entry: string;
  /**
   * Automatic failover: a local etcd from PATH (data in `<datadir>/etcd`, loopback ports), a
   * second replica (port+3), and `--etcd` on every node (docs/operations.md, "Automatic failover
   * with etcd").
   */
  failover?: boolean;
}

/** Initialises a master data directory with index `root/dev` (inheriting the `root/pypi` mirror) unless it exists. Returns true when it did. */
export async function ensureMasterDatadir(datadir: string): Promise<boolean> {
  if (await Changelog.exists(datadirPaths(datadir).db)) return false;
  await initDatadir({ datadir });
  const changelog = await Changelog.open({ location: datadirPaths(datadir).db });
  try {
    await changelog.write((tx) => createIndex(tx, 'root', 'dev', { bases: ['root/pypi'] }));
  } finally {
    await changelog.close();
  }
  return true;
}

/** Fast crashes in a row of one node after which the cluster gives up. */
export const CRASH_LIMIT = 3;
/** A crash this soon after the node's start (ms) is fast: it did not really run. */
export const CRASH_WINDOW_MS = 30_000;

/**
 * Counts a node's fast crashes in a row (each within CRASH_WINDOW_MS of its own start, so a slow
 * machine's slow start-ups still count); a crash after a longer run starts the count afresh.
 */
export class CrashLoop {
  private fast = 0;
  constructor(
    private readonly limit = CRASH_LIMIT,
    private readonly windowMs = CRASH_WINDOW_MS,
  ) {}

  /** Records a crash at `now` of a run started at `startedAt` (ms); true when it is the `limit`th fast crash in a row. */
  crashed(startedAt: number, now: number): boolean {
    this.fast = now - startedAt < this.windowMs ? this.fast + 1 : 0;
    return this.fast >= this.limit;
  }
}

/** The last non-empty line of a text stream, kept as it flows (the reason a node gave when it died). */
export class LastLine {
  private pending = '';
  private last = '';
  /** Feeds a chunk of the stream. */
  push(chunk: string): void {
    const lines = (this.pending + chunk).split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) this.last = line.trim();
  }
  /** The last complete non-empty line (or the unterminated rest), '' when none. */
  get value(): string {
    return this.pending.trim() || this.last;
  }
}

async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/+status`, { headers: { accept: 'application/json' } });
      if (res.ok) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not become ready within ${timeoutMs} ms (${last})`);
}

/** Runs the cluster until SIGINT/SIGTERM (see module doc). */
export async function runCluster(opts: ClusterOptions): Promise<void> {
  const root = resolve(opts.datadir);
  const masterDir = join(root, 'master');
  if (await ensureMasterDatadir(masterDir)) process.stderr.write(`initialised ${masterDir}: user root (empty password), index root/dev\n`);
  const host = opts.host;
  const url = (port: number): string => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const masterUrl = url(opts.port + 1);
  const replicaUrl = url(opts.port + 2);
  const replica2Url = url(opts.port + 3);
  const proxyUrl = url(opts.port);
  // with --failover: one etcd member on loopback (for trying it out; production runs 3 or 5)
  const etcd = opts.failover ? await (await import('@wheelhouse/failover')).startLocalEtcd(join(root, 'etcd'), { host: host.includes(':') ? '127.0.0.1' : host }) : undefined;
  const etcdArgs = etcd ? ['--etcd', etcd.url, '--etcd-prefix', '/wheelhouse/local-cluster/'] : [];
  const replicaArgs = (dir: string, port: number): string[] => ['replica', '--datadir', join(root, dir), '--host', host, '--port', String(port), '--master-url', masterUrl, '--secret-file', datadirPaths(masterDir).secret, '--outside-url', proxyUrl, ...etcdArgs];
  const nodes: Array<{ name: string; args: string[]; url: string; child?: ChildProcess; crashes?: CrashLoop }> = [
    { name: 'master', url: masterUrl, args: ['master', '--datadir', masterDir, '--host', host, '--port', String(opts.port + 1), '--outside-url', proxyUrl, '--sync-replicas', '1', ...etcdArgs] },
    { name: 'replica', url: replicaUrl, args: replicaArgs('replica', opts.port + 2) },
    ...(etcd ? [{ name: 'replica2', url: replica2Url, args: replicaArgs('replica2', opts.port + 3) }] : []),
    {
      name: 'proxy',
      url: proxyUrl,
      args: ['proxy', '--host', host, '--port', String(opts.port), '--master', masterUrl, '--replica', replicaUrl, ...(etcd ? ['--replica', replica2Url] : []), '--outside-url', proxyUrl, ...etcdArgs],
    },
  ];
  let stopping = false;
  const start = (node: (typeof nodes)[number]): void => {
    const child = spawn(process.execPath, [opts.entry, ...node.args, '--log-level', 'warn'], { stdio: ['ignore', 'inherit', 'pipe'] });
    node.child = child;
    const lastLine = new LastLine();
    const startedAt = Date.now();
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      lastLine.push(chunk);
      process.stderr.write(chunk);
    });
    child.on('exit', (code, signal) => {
      if (stopping) return;
      node.crashes ??= new CrashLoop();
      if (node.crashes.crashed(startedAt, Date.now())) {
        const reason = lastLine.value || `exit ${signal ?? code}`;
        process.stderr.write(`cluster: giving up: ${node.name} crashed ${CRASH_LIMIT} times in a row within ${CRASH_WINDOW_MS / 1000} s of starting; last error: ${reason}\n`);
        stop(1);
        return;
      }
      process.stderr.write(`cluster: ${node.name} exited (${signal ?? code}); restarting in 1 s\n`);
      setTimeout(() => !stopping && start(node), 1_000);
    });
  };
  const stop = (status = 0): void => {
    if (stopping) return;
    stopping = true;
    const alive = nodes.map((n) => n.child).filter((c): c is ChildProcess => !!c && c.exitCode === null && c.signalCode === null);
    let left = alive.length;
    const exit = (): void => void (etcd ? etcd.stop().finally(() => process.exit(status)) : process.exit(status));
    if (left === 0) exit();
    for (const c of alive) {
      c.once('exit', () => --left === 0 && exit());
      c.kill('SIGTERM');
    }
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on('SIGINT', () => stop());
  process.on('SIGTERM', () => stop());
  for (const node of nodes) {
    start(node);
    // long enough for the crash loop to decide first (it exits the process when it gives up)
    await waitReady(node.url, 180_000);
  }
  process.stderr.write(
    [
      `Wheelhouse cluster (data in ${root}): master ${masterUrl}, replica ${replicaUrl}${etcd ? `, replica ${replica2Url}` : ''}, proxy ${proxyUrl}`,
      ...(etcd ? [`Automatic failover: etcd ${etcd.url} (data in ${join(root, 'etcd')}); kill the master and a replica takes over within about 10 s`] : []),
      `Give pip and twine the proxy:`,
      `  pip install --index-url ${proxyUrl}/root/dev/+simple/ PROJECT`,
      `  twine upload --repository-url ${proxyUrl}/root/dev/ -u root -p '' FILES`,
      `Ctrl-C stops them all.`,
      '',
    ].join('\n'),
  );
}
