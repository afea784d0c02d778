/**
 * Validated settings → the config each role's composition root takes (`createMasterApp`,
 * `createReplicaApp`, `createProxy`). Pure mappings: optional settings that are absent stay absent,
 * so the packages' own defaults apply.
 */
import type { Logger } from 'pino';
import type { MasterConfig } from '@wheelhouse/master';
import type { ReplicaConfig } from '@wheelhouse/replica';
import type { ProxyConfig } from '@wheelhouse/proxy';
import type { MasterSettings, ProxySettings, ReplicaSettings } from './role-schemas.js';

/** A master's config from its settings. */
export function masterConfig(s: MasterSettings, logger: Logger): MasterConfig {
  return {
    datadir: s.datadir,
    host: s.host,
    port: s.port,
    maxFileBytes: s['max-file-bytes'],
    syncCommits: s['sync-commits'],
    logger,
    ...(s.offline ? { offline: true } : {}),
    ...(s['restrict-user-creation'] ? { restrictUserCreation: true } : {}),
    ...(s['secret-file'] !== undefined ? { secretFile: s['secret-file'] } : {}),
    ...(s['outside-url'] !== undefined ? { outsideUrl: s['outside-url'] } : {}),
    ...(s['mirror-timeout'] !== undefined ? { mirrorTimeoutMs: s['mirror-timeout'] } : {}),
    ...(s['gc-interval'] !== undefined ? { gcIntervalMs: s['gc-interval'] } : {}),
    ...(s['gc-grace'] !== undefined ? { gcGraceMs: s['gc-grace'] } : {}),
    ...(s['gc-replica-expiry'] !== undefined ? { gcReplicaExpiryMs: s['gc-replica-expiry'] } : {}),
    ...(s['cleanup-interval'] !== undefined ? { cleanupIntervalMs: s['cleanup-interval'] } : {}),
    ...(s['sync-replicas'] !== undefined ? { syncReplicas: s['sync-replicas'] } : {}),
    ...(s['sync-timeout'] !== undefined ? { syncTimeoutMs: s['sync-timeout'] } : {}),
    ...(s['sync-degrade'] ? { syncDegrade: true } : {}),
  };
}

/** A replica's config from its settings. */
export function replicaConfig(s: ReplicaSettings, logger: Logger): ReplicaConfig {
  return {
    datadir: s.datadir,
    host: s.host,
    port: s.port,
    masterUrl: s['master-url'],
    secretFile: s['secret-file'],
    followNewMaster: s['follow-new-master'],
    logger,
    ...(s['outside-url'] !== undefined ? { outsideUrl: s['outside-url'] } : {}),
    ...(s['max-lag-serials'] !== undefined ? { maxLagSerials: s['max-lag-serials'] } : {}),
    ...(s['write-wait'] !== undefined ? { writeWaitMs: s['write-wait'] } : {}),
    ...(s['gc-interval'] !== undefined ? { gcIntervalMs: s['gc-interval'] } : {}),
    ...(s['gc-grace'] !== undefined ? { gcGraceMs: s['gc-grace'] } : {}),
  };
}

/** A proxy's config from its settings. */
export function proxyConfig(s: ProxySettings, logger: Logger): ProxyConfig {
  return {
    host: s.host,
    port: s.port,
    master: s.master,
    replicas: s.replica,
    logger,
    ...(s['outside-url'] !== undefined ? { outsideUrl: s['outside-url'] } : {}),
    ...(s['read-your-writes-wait'] !== undefined ? { readYourWritesWaitMs: s['read-your-writes-wait'] } : {}),
  };
}
