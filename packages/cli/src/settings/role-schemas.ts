/**
 * One settings schema per role — master, replica, proxy, cluster — written with TypeBox, so each
 * is a plain JSON Schema (compiled once by ajv, see load-settings.ts) and its TypeScript type is
 * derived from it (`Static<…>`), never written twice. Keys are named like the long flags
 * (`max-file-bytes` ↔ `--max-file-bytes` ↔ `WHEELHOUSE_MAX_FILE_BYTES`); each property's
 * `description` is the flag's help text and its `default` the value used when no source sets it.
 * Sizes are bytes, durations ms.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** The roles whose settings the CLI loads. */
export type Role = 'master' | 'replica' | 'proxy' | 'cluster';

/** pino's levels. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** A pino log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** An http(s) URL with a host (no spaces). */
const URL_PATTERN = '^https?://[^\\s/?#]+(/\\S*)?$';

const url = (description: string) => Type.String({ pattern: URL_PATTERN, description });
const port = (description: string, dflt: number, minimum = 0, maximum = 65535) => Type.Integer({ minimum, maximum, default: dflt, description });
const host = (description = 'interface to listen on') => Type.String({ minLength: 1, default: '127.0.0.1', description });
const logLevel = Type.Unsafe<LogLevel>({ type: 'string', enum: [...LOG_LEVELS], default: 'info', description: 'pino log level' });
const ldapConfig = Type.Optional(Type.String({ minLength: 1, description: 'JSON file configuring LDAP sign-in for users without a local account (docs/operations.md "LDAP")' }));
const outsideUrl = (what: string) => Type.Optional(url(`URL clients use to reach ${what}`));

/** A file a setting names. */
const file = (description: string) => Type.Optional(Type.String({ minLength: 1, description }));
/** The TLS settings of a server (docs/operations.md, "TLS"): certificate and key together; the redirect port only with them. */
const serverTls = {
  'tls-cert': file('PEM certificate file (with its chain): serve HTTPS; re-read on SIGHUP'),
  'tls-key': file('PEM private key file of --tls-cert'),
  'http-redirect-port': Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'also listen for plain HTTP on this port, answering only 308 redirects to HTTPS (default: no plain HTTP port)' })),
};
/** `tls-cert` and `tls-key` come together; `http-redirect-port` needs them (ajv `dependencies`). */
const SERVER_TLS_DEPENDENCIES = { 'tls-cert': ['tls-key'], 'tls-key': ['tls-cert'], 'http-redirect-port': ['tls-cert'] };
/** The CA a role trusts for its own HTTPS requests. */
const tlsCa = (to: string) => file(`PEM CA file trusted (besides the usual roots) for HTTPS to ${to}`);
/** Automatic failover on etcd (docs/operations.md, "Automatic failover with etcd"). */
const etcdUrls = Type.Array(url('an etcd client URL'), { default: [], description: 'etcd client URLs, comma-separated or repeated: turns on automatic failover' });
const etcdPrefix = Type.String({ pattern: '^/(\\S*/)?$', default: '/wheelhouse/default/', description: "this cluster's key prefix in etcd (starts and ends with /)" });
const etcdNodeSettings = {
  etcd: etcdUrls,
  'etcd-prefix': etcdPrefix,
  'etcd-lease-ttl': Type.Integer({ minimum: 2_000, maximum: 60_000, default: 5_000, description: 'leadership lease TTL: ms, or 5s; a master stops writing before it can lapse; failover takes about twice it' }),
  'node-url': Type.Optional(url('URL the other nodes reach this node at, published in etcd (default http://host:port)')),
};

/** `wheelhouse master`. */
export const masterSettingsSchema = Type.Object(
  {
    datadir: Type.String({ minLength: 1, description: 'data directory made by init' }),
    host: host(),
    port: port('TCP port, 0 for any free one', 3141),
    'secret-file': Type.Optional(Type.String({ minLength: 1, description: 'file whose bytes sign login tokens (default <datadir>/secret)' })),
    'outside-url': outsideUrl('this server'),
    'max-file-bytes': Type.Integer({ minimum: 1, default: 1024 ** 3, description: 'largest release file accepted: bytes, or 512MiB, 2GB' }),
    'sync-commits': Type.Boolean({ default: true, description: 'fsync every commit' }),
    offline: Type.Boolean({ default: false, description: 'mirror indexes serve only what is cached; upstream is never contacted' }),
    'restrict-user-creation': Type.Boolean({ default: false, description: 'only root may create users (devpi --restrict-modify idea); default anyone may register' }),
    'mirror-timeout': Type.Optional(Type.Integer({ minimum: 1, description: 'timeout of one upstream request of a mirror: ms, or 5s (default 5s)' })),
    'gc-interval': Type.Optional(Type.Integer({ minimum: 0, description: 'background garbage collection of unnamed blobs every: ms, or 10m; 0 = only on demand (default 10m)' })),
    'gc-grace': Type.Optional(Type.Integer({ minimum: 0, description: 'blobs younger than this are never collected (uploads in flight): ms, or 1h (default 1h)' })),
    'gc-replica-expiry': Type.Optional(Type.Integer({ minimum: 1, description: 'replicas not seen for this long no longer hold garbage collection back: ms, or 24h (default 24h)' })),
    'cleanup-interval': Type.Optional(Type.Integer({ minimum: 1, description: 'apply the retention policies of volatile indexes every: ms, or 24h (default: only by wheelhouse cleanup)' })),
    ...serverTls,
    'ldap-config': ldapConfig,
    'sync-replicas': Type.Optional(Type.Integer({ minimum: 0, maximum: 64, description: 'answer a write only after this many replicas confirmed it durable with its files; 0 = asynchronous (default 1 once a replica has confirmed within the gc-replica-expiry, else 0)' })),
    'sync-timeout': Type.Optional(Type.Integer({ minimum: 1, description: 'wait for the sync replicas\' confirmation: ms, or 5s; then 503 (or asynchronous with --sync-degrade) (default 5s)' })),
    'sync-degrade': Type.Boolean({ default: false, description: 'when the sync replicas do not confirm in time, answer the write asynchronously (counted in metrics) instead of 503' }),
    ...etcdNodeSettings,
    'log-level': logLevel,
  },
  { additionalProperties: false, dependencies: SERVER_TLS_DEPENDENCIES },
);
/** Settings of a master (sizes in bytes, durations in ms). */
export type MasterSettings = Static<typeof masterSettingsSchema>;

/** `wheelhouse replica`. */
export const replicaSettingsSchema = Type.Object(
  {
    datadir: Type.String({ minLength: 1, description: 'data directory (created on first start)' }),
    host: host(),
    port: port('TCP port, 0 for any free one', 3142),
    'master-url': url("the master's URL"),
    'secret-file': Type.String({ minLength: 1, description: 'the secret file shared with the master' }),
    'outside-url': outsideUrl('this replica'),
    'max-lag-serials': Type.Optional(Type.Integer({ minimum: 0, description: 'readiness bound: serials behind the master (default 50)' })),
    'follow-new-master': Type.Boolean({
      default: false,
      description: 'when the master gets a new store UUID (import/upgrade), build its state beside the served one and switch',
    }),
    'write-wait': Type.Optional(Type.Integer({ minimum: 1, description: 'wait for read-your-writes after a forwarded write: ms, or 30s (default 30s)' })),
    'gc-interval': Type.Optional(Type.Integer({ minimum: 0, description: 'background garbage collection of unnamed blobs every: ms, or 10m; 0 = only on demand (default 10m)' })),
    'gc-grace': Type.Optional(Type.Integer({ minimum: 0, description: 'blobs younger than this are never collected (uploads in flight): ms, or 1h (default 1h)' })),
    ...serverTls,
    'tls-ca': tlsCa('the master'),
    'ldap-config': ldapConfig,
    ...etcdNodeSettings,
    'log-level': logLevel,
  },
  { additionalProperties: false, dependencies: SERVER_TLS_DEPENDENCIES },
);
/** Settings of a replica (durations in ms). */
export type ReplicaSettings = Static<typeof replicaSettingsSchema>;

/** `wheelhouse proxy`. */
export const proxySettingsSchema = Type.Object(
  {
    host: host(),
    port: port('TCP port, 0 for any free one', 3141),
    master: url("the master's URL"),
    replica: Type.Array(url('a replica URL'), { default: [], description: 'a replica URL (repeat for several)' }),
    'outside-url': outsideUrl('the proxy'),
    'read-your-writes-wait': Type.Optional(
      Type.Integer({ minimum: 1, description: 'how long a read waits for a backend that reached the serial of a write: ms, or 2s (default 2s)' }),
    ),
    ...serverTls,
    'tls-ca': tlsCa('the master and replicas'),
    etcd: etcdUrls,
    'etcd-prefix': etcdPrefix,
    'log-level': logLevel,
  },
  { additionalProperties: false, dependencies: SERVER_TLS_DEPENDENCIES },
);
/** Settings of a proxy (durations in ms). */
export type ProxySettings = Static<typeof proxySettingsSchema>;

/** Where `cluster` keeps its data when no --datadir is given: `.wheelhouse/` in the working directory. */
export const DEFAULT_DATADIR = '.wheelhouse';

/** `wheelhouse cluster`: the proxy takes `port`, the master port+1, the replica port+2. */
export const clusterSettingsSchema = Type.Object(
  {
    datadir: Type.String({ minLength: 1, default: DEFAULT_DATADIR, description: 'data directory (master/ and replica/ inside; root/dev created on first run)' }),
    host: host('interface for all three nodes'),
    port: port("the proxy's port; master and replica take the next two (with --failover: master and two replicas the next three)", 3141, 1, 65532),
    failover: Type.Boolean({ default: false, description: 'automatic failover: also start a local etcd (from PATH) and a second replica; the nodes elect the master through it' }),
  },
  { additionalProperties: false },
);
/** Settings of a local cluster. */
export type ClusterSettings = Static<typeof clusterSettingsSchema>;

/** Each role's schema. */
export const ROLE_SCHEMAS = {
  master: masterSettingsSchema,
  replica: replicaSettingsSchema,
  proxy: proxySettingsSchema,
  cluster: clusterSettingsSchema,
} as const satisfies Record<Role, TSchema>;

/** Each role's settings type. */
export interface RoleSettings {
  master: MasterSettings;
  replica: ReplicaSettings;
  proxy: ProxySettings;
  cluster: ClusterSettings;
}

/** The keys (flag names without `--`) a role takes. */
export function settingKeys(role: Role): string[] {
  return Object.keys(ROLE_SCHEMAS[role].properties);
}
