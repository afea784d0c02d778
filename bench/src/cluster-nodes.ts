/**
 * The command lines of the nodes beyond the benchmark's first master: a master on a data dir made
 * elsewhere, a replica, a proxy. Each gets a free port on 127.0.0.1, log level warn and a log file
 * in `root`; the replica's data dir is created by its first start.
 */
import { join } from 'node:path';
import { NodeProcess } from './node-process.js';
import { freePort } from './server-process.js';

/** Spawns `wheelhouse replica` without waiting (catch-up times it from the spawn). */
export async function spawnReplica(root: string, name: string, masterUrl: string, secretFile: string): Promise<NodeProcess> {
  const port = await freePort();
  return NodeProcess.spawn({
    name,
    port,
    cwd: root,
    logPath: join(root, `${name}.log`),
    args: ['replica', '--datadir', join(root, name), '--master-url', masterUrl, '--secret-file', secretFile, '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warn'],
  });
}

/** Starts `wheelhouse replica`; resolves when GET /+ready is 200 (initial sync done). */
export async function startReplica(root: string, name: string, masterUrl: string, secretFile: string, timeoutMs = 120_000): Promise<NodeProcess> {
  const node = await spawnReplica(root, name, masterUrl, secretFile);
  try {
    await node.waitFor('/+ready', timeoutMs);
  } catch (err) {
    await node.stop();
    throw new Error(`${(err as Error).message}\n--- ${name} log ---\n${node.log().slice(-3000)}`);
  }
  return node;
}

/** Starts `wheelhouse master` on an existing data dir; ready when GET /+status is 200. */
export async function startMasterOn(root: string, name: string, datadir: string): Promise<NodeProcess> {
  const port = await freePort();
  return NodeProcess.start(
    { name, port, cwd: root, logPath: join(root, `${name}.log`), args: ['master', '--datadir', datadir, '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warn'] },
    '/+status',
    120_000,
  );
}

/** Starts `wheelhouse proxy` in front of `masterUrl` and `replicaUrls`; ready when its /+status is 200. */
export async function startProxy(root: string, masterUrl: string, replicaUrls: readonly string[]): Promise<NodeProcess> {
  const port = await freePort();
  const args = ['proxy', '--host', '127.0.0.1', '--port', String(port), '--master', masterUrl, '--log-level', 'warn'];
  for (const r of replicaUrls) args.push('--replica', r);
  return NodeProcess.start({ name: 'proxy', port, cwd: root, logPath: join(root, 'proxy.log'), args }, '/+status');
}

/**
 * Waits until the replica's `/+status` serial equals the master's and its file queue is empty
 * (every file replicated), polling every 50 ms. Returns the seconds it took.
 */
export async function waitInSync(master: { status(): Promise<Record<string, unknown>> }, replica: NodeProcess, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  const target = Number((await master.status()).serial);
  let last = '';
  while (performance.now() - t0 < timeoutMs) {
    if (!replica.running) throw new Error(`${replica.spec.name} exited while syncing (${replica.unexpectedExit ?? 'stopped'})`);
    try {
      const s = await replica.status();
      const failed = Array.isArray(s['files-failed']) ? s['files-failed'].length : 0;
      if (Number(s.serial) >= target && s['files-queued'] === 0) return (performance.now() - t0) / 1000;
      last = `serial ${String(s.serial)}/${target}, files queued ${String(s['files-queued'])}, failed ${failed}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${replica.spec.name} not in sync after ${timeoutMs} ms: ${last}`);
}
