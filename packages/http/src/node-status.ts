/**
 * The shapes of `GET /+status` (devpi's `/+status` with wheelhouse's fields) as each role produces
 * them. Type aliases (not interfaces) so they pass where `Record<string, unknown>` is expected.
 */

/** One mirror index of a master. */
export type MirrorStatus = {
  stage: string;
  upstream: string;
  state: 'ok' | 'failing' | 'circuit-open' | 'offline';
  fails: number;
  lastError: string | null;
  lastSuccess: string | null;
  cachedProjects: number;
  listCount: number | null;
  listFetched: string | null;
};

/** A replica as its master saw it on the changelog feed. */
export type KnownReplica = {
  id: string;
  /** the replica's outside URL, as it says */
  url: string;
  /** last serial sent to (or applied by) the replica */
  serial: number;
  /** ISO 8601 */
  lastSeen: string;
  /** an open stream to it right now */
  streaming: boolean;
  /** highest serial it confirmed durable with its files (-1: none) */
  acked: number;
  'lag-serials': number;
};

/** A master's status. Times are ISO 8601 unless named `-seconds`/`-timestamp` (s since epoch). */
export type MasterStatus = {
  role: 'MASTER';
  uuid: string;
  /** The epoch (master term) this master is in (docs/operations.md, "Promotion and rejoin"). */
  epoch?: number;
  /** This master's URL while it leads; null while fenced. */
  leader?: string | null;
  /** false, or why this master is fenced (a higher epoch superseded it; writes refused). */
  fenced?: false | { epoch: number; supersededBy: number; source: string; at: string; message: string };
  /** The epoch history of the store, oldest first (`rejoin` reads it). */
  epochs?: Array<{ epoch: number; uuid: string; url: string; serial: number; at: number; forced?: boolean }>;
  /** Automatic failover (`--etcd`): the leader key as read from etcd and this node's lease (`LeadershipStatus`). */
  failover?: Record<string, unknown>;
  serial: number;
  'last-commit-timestamp': number | null;
  'started-at': string;
  'uptime-seconds': number;
  'server-version': string;
  'outside-url': string | null;
  'password-cache-entries': number;
  'memory-rss-bytes': number;
  /** Health of the store's writes (changelog's StorageHealth plus the file store's failed writes). */
  storage?: { state: 'ok' | 'failed' | 'stopped'; failures: number; recoveries: number; code?: string; message?: string; since?: string; 'file-store-failures': number };
  mirrors: MirrorStatus[];
  replicas: KnownReplica[];
  /** disk usage of the store and per index, and the last garbage collection (master/src/cleanup/maintenance.ts) */
  'disk-usage'?: Record<string, unknown>;
  /** acknowledged means replicated: replication's `SyncStats` (required, acknowledging, last ack lag, timeouts, degraded writes) */
  'sync-replication'?: Record<string, unknown>;
};

/** A replica's status (`generation.ts` builds it; `building-next` while following a new master). */
export type ReplicaStatus = {
  role: 'REPLICA';
  uuid: string;
  'master-uuid': string;
  'master-url': string;
  'replica-id': string;
  serial: number;
  'master-serial': number;
  'lag-serials': number;
  'lag-seconds': number | null;
  [field: string]: unknown;
};

/** One backend as the proxy sees it. */
export type ProxyBackendStatus = {
  name: string;
  url: string;
  role: 'master' | 'replica';
  /** Epoch the backend announced last (0 unknown). */
  epoch?: number;
  /** Role the backend announced last (`X-Wheelhouse-Role`), null before any. */
  'announced-role'?: 'master' | 'replica' | 'fenced' | null;
  /** Gets new requests now (up, not draining, not ejected). */
  usable: boolean;
  up: boolean;
  draining: boolean;
  ejected: boolean;
  ejections: number;
  serial: number;
  /** Serials behind the master (replicas, when both serials are known), else null. */
  'lag-serials': number | null;
  outstanding: number;
  requests: number;
  /** ISO time of the last check answer, null before any. */
  'last-check': string | null;
  'last-error': string | null;
};

/** The proxy's status. */
export type ProxyStatus = {
  role: 'PROXY';
  /** Highest serial a write answer carried (-1 none). */
  'write-serial': number;
  /** Highest epoch any backend announced (0 none). */
  epoch?: number;
  /** URL writes go to (the master of the highest epoch), null when none qualifies. */
  leader?: string | null;
  /** Automatic failover (`--etcd`): the leader key as the proxy last read it. */
  failover?: Record<string, unknown>;
  backends: ProxyBackendStatus[];
};

/** What any node answers on `/+status`. */
export type NodeStatus = MasterStatus | ReplicaStatus | ProxyStatus;
