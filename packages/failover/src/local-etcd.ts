/**
 * Runs a single-member etcd from PATH (Debian's `etcd-server` package installs `etcd`) on loopback
 * ports with its data under a given directory: what `wheelhouse cluster --failover`, the tests and
 * the failover benchmark use. Not for production (one member is no quorum to survive losing).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdir } from 'node:fs/promises';

/** A running local etcd. */
export interface LocalEtcd {
  /** Client URL (`http://127.0.0.1:PORT`). */
  url: string;
  process: ChildProcess;
  /** SIGTERM, then SIGKILL after 5 s; resolves when it exited. */
  stop(): Promise<void>;
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/**
 * Starts etcd with data in `dataDir` on `host` (default 127.0.0.1) and waits until it answers
 * (at most `timeoutMs`, default 30,000); `netns` runs it inside that network namespace (give
 * `host` and `clientPort`: ports are not probed there). Throws when `etcd` is not on PATH or does not come up (the
 * message holds its last output).
 */
export async function startLocalEtcd(dataDir: string, opts: { host?: string; clientPort?: number; peerPort?: number; timeoutMs?: number; netns?: string } = {}): Promise<LocalEtcd> {
  const host = opts.host ?? '127.0.0.1';
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const clientPort = opts.clientPort ?? (await freePort(host));
  const peerPort = opts.peerPort ?? (await freePort(host));
  const url = `http://${host}:${clientPort}`;
  const peer = `http://${host}:${peerPort}`;
  // `netns`: inside that Linux network namespace (`ip netns exec NS etcd …`; tests of partitions)
  const [command, prefix] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, 'etcd']] : ['etcd', []];
  const child = spawn(
    command,
    [
      ...prefix,
      '--name', 'wheelhouse', '--data-dir', dataDir,
      '--listen-client-urls', url, '--advertise-client-urls', url,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `wheelhouse=${peer}`, '--initial-cluster-state', 'new',
      '--log-level', 'error', '--logger', 'zap',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let output = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (output = (output + chunk).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) => child.once('error', (err) => reject(new Error(`cannot run etcd (install Debian's etcd-server): ${err.message}`))));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`etcd exited (${child.exitCode}): ${output.trim()}`);
      // etcd's own health endpoint on the client port (HTTP/1.1 beside gRPC)
      const health = fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.ok, () => false);
      const ok = await Promise.race([health, spawnError]);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`etcd at ${url} did not answer within ${opts.timeoutMs ?? 30_000} ms: ${output.trim()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, process: child, stop };
}
