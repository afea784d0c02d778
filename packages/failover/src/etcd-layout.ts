/**
 * The keys a Wheelhouse cluster keeps in etcd, under one prefix per cluster (`--etcd-prefix`,
 * default `/wheelhouse/default/`), and the JSON values they hold:
 *
 * - `<prefix>leader` — `{epoch, url, node, serving}`: the master of the current term, attached to that
 *   master's lease (it disappears when the lease lapses);
 * - `<prefix>epoch` — the highest epoch ever granted (decimal text, no lease): a node whose own
 *   epoch is lower is a former master and stays fenced;
 * - `<prefix>candidates/<replica id>` — `{epoch, serial, url}`: each live replica's progress,
 *   attached to the replica's own lease.
 */
import { Etcd3, type Namespace } from 'etcd3';
import type { Candidate } from './campaign-decision.js';

/** Key names relative to the cluster prefix. */
export const KEYS = { leader: 'leader', epoch: 'epoch', candidates: 'candidates/' } as const;

/** Default key prefix. */
export const DEFAULT_ETCD_PREFIX = '/wheelhouse/default/';

/** The value of the leader key. */
export interface LeaderRecord {
  /** The term's epoch (the promotion record's epoch in the changelog). */
  epoch: number;
  /** URL the master serves at (what replicas tail and the proxy writes to). */
  url: string;
  /** Identity of the node: its store UUID. */
  node: string;
  /**
   * Whether the node serves as master at `url` yet: a campaign writes false (the winner is still
   * promoting itself), the new master true once it serves. Followers (replicas, the proxy) act
   * only on a serving leader; an absent field counts as true.
   */
  serving: boolean;
}

/** Where a node finds etcd. */
export interface EtcdEndpoint {
  /** etcd client URLs (`http://127.0.0.1:2379`). */
  hosts: string[];
  /** Key prefix of this cluster (ends with `/`). */
  prefix: string;
}

/**
 * A client for the cluster's keys: an `etcd3` client namespaced to `prefix`; non-stream calls time
 * out after `callTimeoutMs` (default 2,000) so a partitioned node learns of it within its lease.
 */
export function connectEtcd(endpoint: EtcdEndpoint, callTimeoutMs = 2_000): { client: Etcd3; ns: Namespace } {
  const client = new Etcd3({
    hosts: endpoint.hosts,
    dialTimeout: callTimeoutMs,
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
  });
  return { client, ns: client.namespace(endpoint.prefix) };
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Parses a leader value; undefined for anything that is not one (a foreign or damaged key). */
export function parseLeader(text: string | null | undefined): LeaderRecord | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as Partial<LeaderRecord>;
    if (isCount(v.epoch) && typeof v.url === 'string' && typeof v.node === 'string') return { epoch: v.epoch, url: v.url, node: v.node, serving: v.serving !== false };
  } catch {
    // not JSON: not ours
  }
  return undefined;
}

/** Parses a candidate value stored under `candidates/<id>`; undefined when damaged. */
export function parseCandidate(id: string, text: string): Candidate | undefined {
  try {
    const v = JSON.parse(text) as Partial<Candidate>;
    if (isCount(v.epoch) && isCount(v.serial) && typeof v.url === 'string') return { id, epoch: v.epoch, serial: v.serial, url: v.url };
  } catch {
    // damaged: ignored
  }
  return undefined;
}

/** Parses the epoch key (absent → 0). */
export function parseEpoch(text: string | null | undefined): number {
  const n = text ? Number(text) : 0;
  return isCount(n) ? n : 0;
}

/** Reads the leader key: the record (if any) and the epoch key. */
export async function readLeadership(ns: Namespace): Promise<{ leader: LeaderRecord | undefined; epoch: number }> {
  const [leader, epoch] = await Promise.all([ns.get(KEYS.leader).string(), ns.get(KEYS.epoch).string()]);
  return { leader: parseLeader(leader), epoch: parseEpoch(epoch) };
}
