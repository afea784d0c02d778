/**
 * The start-up check of a master against the replicas it has known (docs/operations.md,
 * "Promotion and rejoin"): their URLs are kept in local metadata `peers` (not replicated) as the
 * feed first sees them; at start-up, before it accepts a write, the master asks each for its epoch
 * (`GET /+status`, answer header `X-Wheelhouse-Epoch`) and fences itself when one is higher — a
 * replica was promoted while this master was down. Unreachable peers cannot tell and are skipped.
 * The same probe (without holding writes) checks an epoch some request claims (the proxy's
 * `X-Wheelhouse-Epoch`): anyone can send that header, so only a known peer's answer fences.
 */
import type { Changelog } from '@wheelhouse/changelog';
import type { Logger } from 'pino';
import { request } from 'undici';
import { parseEpoch } from '@wheelhouse/replication';
import type { Fence } from './fence.js';

/** Local metadata name of the known peers (JSON array of URLs). */
export const PEERS_META = 'peers';
/** At most this many peers are remembered (the newest). */
const MAX_PEERS = 32;

/** The peer URLs remembered in `changelog`'s metadata. */
export function knownPeers(changelog: Changelog): string[] {
  try {
    const list = JSON.parse(changelog.getMeta(PEERS_META) ?? '[]') as unknown;
    return Array.isArray(list) ? list.filter((u): u is string => typeof u === 'string') : [];
  } catch {
    return [];
  }
}

/** Remembers `url` as a peer (durably; no-op when known). */
export async function rememberPeer(changelog: Changelog, url: string): Promise<void> {
  if (!/^https?:\/\//.test(url)) return;
  const peers = knownPeers(changelog);
  if (peers.includes(url)) return;
  await changelog.setMeta(PEERS_META, JSON.stringify([...peers, url].slice(-MAX_PEERS)));
}

/** The epoch `url` announces on `/+status`, or undefined when it does not answer within `timeoutMs`. */
export async function peerEpoch(url: string, timeoutMs: number): Promise<number | undefined> {
  try {
    const res = await request(`${url.replace(/\/+$/, '')}/+status`, { headers: { accept: 'application/json' }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
    await res.body.dump();
    return parseEpoch(res.headers['x-wheelhouse-epoch']);
  } catch {
    return undefined;
  }
}

/**
 * Probes every known peer in parallel (each at most `timeoutMs`); writes wait (503, Retry-After 1)
 * meanwhile. Resolves when done; never rejects.
 */
export async function probePeers(deps: { changelog: Changelog; fence: Fence; log: Logger; timeoutMs: number; blockWrites?: boolean }): Promise<void> {
  const peers = knownPeers(deps.changelog);
  if (peers.length === 0 || deps.timeoutMs <= 0 || deps.fence.fenced()) return;
  const block = deps.blockWrites !== false;
  if (block) deps.fence.setProbing(`this master is asking its known replicas whether a newer epoch began (at most ${deps.timeoutMs} ms)`);
  try {
    await Promise.all(peers.map(async (url) => {
      const epoch = await peerEpoch(url, deps.timeoutMs);
      if (deps.fence.observe(epoch, `peer ${url} at start-up`)) deps.log.error({ peer: url, epoch }, 'a known replica is in a newer epoch: fenced');
    }));
  } finally {
    if (block) deps.fence.setProbing(undefined);
  }
}
