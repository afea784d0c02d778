/**
 * The proxy benchmark (issue 4): `wheelhouse proxy` in front of the populated master and its
 * replica; the HTML simple page loaded directly on the replica and through the proxy, then the
 * failover time when the replica is SIGKILLed under read load through the proxy. Ends with the
 * replica dead: run it last.
 */
import type { BenchCluster, Say } from './bench-cluster.js';
import type { ProxyResults } from './cluster-tables.js';
import { runLoad, type LoadSettings } from './load-run.js';
import type { WheelhouseProcess } from '@wheelhouse/testing';
import { measureFailover } from './proxy-failover.js';
import { projectName } from './release-files.js';

export const FAILOVER_CONNECTIONS = 4;
const REPLICA_BACKEND = 'replica1';

export type MutableProxyResults = { -readonly [K in keyof ProxyResults]: ProxyResults[K] } & { setup: string[]; notes: string[] };

export function emptyProxyResults(load: LoadSettings): MutableProxyResults {
  return {
    setup: [],
    direct: undefined,
    proxied: undefined,
    proxyCpuMicros: undefined,
    failover: undefined,
    failoverConnections: FAILOVER_CONNECTIONS,
    loadNote: `autocannon, ${load.connections} keep-alive connections, closed loop, ${load.durationSeconds} s each, child process; proxy, replica and load generator share the machine's cores. Replica and proxy CPU µs/request from /proc over the requests served.`,
    notes: [],
  };
}

/** Waits until the proxy's /+status lists `name` as usable (health checks passed). */
async function waitUsable(proxy: WheelhouseProcess, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const backends = (await proxy.status()).backends;
    last = Array.isArray(backends) ? backends.find((b: { name?: string }) => b.name === name) : backends;
    if ((last as { usable?: boolean } | undefined)?.usable) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`proxy does not list ${name} as usable after ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

export async function runProxyPart(cluster: BenchCluster, load: LoadSettings, say: Say, r: MutableProxyResults): Promise<void> {
  const { master, ix } = await cluster.populatedMaster();
  const replica = await cluster.syncedReplica();
  const proxy = cluster.track(await cluster.nodes.proxy('proxy', master, [replica]).start());
  say(`proxy pid ${String(proxy.pid)} at ${proxy.url}`);
  await waitUsable(proxy, REPLICA_BACKEND, 10_000);
  await waitUsable(proxy, 'master', 10_000);
  r.setup.push(`one \`wheelhouse proxy\` (--log-level warn, default health policy) in front of the benchmark master and one replica in sync with it; page: HTML simple page of \`${projectName(0)}\``);

  const path = `${ix.indexPath}+simple/${projectName(0)}/`;
  say(`load: simple page directly on the replica`);
  r.direct = await runLoad({ label: 'directly on the replica', url: `${replica.url}${path}` }, load, replica);
  say(`load: simple page through the proxy`);
  const cpu0 = proxy.cpuSeconds();
  r.proxied = await runLoad({ label: 'through the proxy', url: `${proxy.url}${path}` }, load, replica);
  const cpu1 = proxy.cpuSeconds();
  const served = r.proxied.requestsPerSecond * load.durationSeconds;
  if (cpu0 !== undefined && cpu1 !== undefined && served > 0) r.proxyCpuMicros = ((cpu1 - cpu0) * 1e6) / served;
  for (const o of [r.direct, r.proxied]) if (o.note) r.notes.push(`proxy table, ${o.label}: ${o.note}`);
  const backends = (await proxy.status()).backends;
  if (Array.isArray(backends)) {
    r.setup.push(`requests the proxy sent per backend during the load: ${backends.map((b: { name?: string; requests?: number }) => `${String(b.name)} ${String(b.requests)}`).join(', ')}`);
  }

  say(`failover: SIGKILL of the replica under load through the proxy`);
  r.failover = await measureFailover({
    proxyUrl: proxy.url,
    path,
    backendName: REPLICA_BACKEND,
    victim: replica,
    connections: FAILOVER_CONNECTIONS,
    beforeMs: 1_000,
    afterMs: 3_000,
    timeoutMs: 10_000,
  });
}
