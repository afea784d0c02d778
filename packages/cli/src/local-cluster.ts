/**
 * `wheelhouse cluster`: the one-command local cluster — a master, a replica and a proxy on this
 * machine, each its own process (so one can die without the others), started from one data
 * directory (`<datadir>/master`, `<datadir>/replica`; the master's is initialised with index
 * `root/dev` on first run). Prints the one URL to give pip and twine; a crashed node is restarted;
 * Ctrl-C stops all three cleanly.
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
  const proxyUrl = url(opts.port);
  const nodes: Array<{ name: string; args: string[]; url: string; child?: ChildProcess }> = [
    { name: 'master', url: masterUrl, args: ['master', '--datadir', masterDir, '--host', host, '--port', String(opts.port + 1), '--outside-url', proxyUrl] },
    {
      name: 'replica',
      url: replicaUrl,
      args: ['replica', '--datadir', join(root, 'replica'), '--host', host, '--port', String(opts.port + 2), '--master-url', masterUrl, '--secret-file', datadirPaths(masterDir).secret, '--outside-url', proxyUrl],
    },
    { name: 'proxy', url: proxyUrl, args: ['proxy', '--host', host, '--port', String(opts.port), '--master', masterUrl, '--replica', replicaUrl, '--outside-url', proxyUrl] },
  ];
  let stopping = false;
  const start = (node: (typeof nodes)[number]): void => {
    const child = spawn(process.execPath, [opts.entry, ...node.args, '--log-level', 'warn'], { stdio: ['ignore', 'inherit', 'inherit'] });
    node.child = child;
    child.on('exit', (code, signal) => {
      if (stopping) return;
      process.stderr.write(`cluster: ${node.name} exited (${signal ?? code}); restarting in 1 s\n`);
      setTimeout(() => !stopping && start(node), 1_000);
    });
  };
  for (const node of nodes) {
    start(node);
    await waitReady(node.url, 30_000);
  }
  process.stderr.write(
    [
      `Wheelhouse cluster (data in ${root}): master ${masterUrl}, replica ${replicaUrl}, proxy ${proxyUrl}`,
      `Give pip and twine the proxy:`,
      `  pip install --index-url ${proxyUrl}/root/dev/+simple/ PROJECT`,
      `  twine upload --repository-url ${proxyUrl}/root/dev/ -u root -p '' FILES`,
      `Ctrl-C stops all three.`,
      '',
    ].join('\n'),
  );
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const alive = nodes.map((n) => n.child).filter((c): c is ChildProcess => !!c && c.exitCode === null && c.signalCode === null);
    let left = alive.length;
    if (left === 0) process.exit(0);
    for (const c of alive) {
      c.once('exit', () => --left === 0 && process.exit(0));
      c.kill('SIGTERM');
    }
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
