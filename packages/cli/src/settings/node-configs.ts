/**
 * Validated settings → the config each role's composition root takes (`createMasterApp`,
 * `createReplicaApp`, `createProxy`). Pure mappings: optional settings that are absent stay absent,
 * so the packages' own defaults apply.
 */
import type { Logger } from 'pino';
import type { MasterConfig } from '@wheelhouse/master';
import type { ReplicaConfig } from '@wheelhouse/replica';
import type { ProxyConfig } from '@wheelhouse/proxy';
import type { NodeTlsOptions } from '@wheelhouse/http';
import type { LdapConfig } from '@wheelhouse/core';
import type { MasterSettings, ProxySettings, ReplicaSettings } from './role-schemas.js';

/** The TLS settings every server role has (the schema requires cert and key together). */
type ServerTlsSettings = Pick<MasterSettings, 'tls-cert' | 'tls-key' | 'http-redirect-port' | 'outside-url'>;

/**
 * `{ tls }` for a role's config when `--tls-cert` is set, else `{}`. The redirect goes to the
 * outside URL when that is https, else to the Host's name on the TLS port.
 */
export function tlsConfig(s: ServerTlsSettings): { tls?: NodeTlsOptions } {
  if (s['tls-cert'] === undefined || s['tls-key'] === undefined) return {};
  const outside = s['outside-url'];
  return {
    tls: {
      certFile: s['tls-cert'],
      keyFile: s['tls-key'],
      ...(s['http-redirect-port'] !== undefined ? { redirectPort: s['http-redirect-port'] } : {}),
      ...(outside?.startsWith('https://') ? { redirectBase: outside } : {}),
    },
  };
}

/** A master's config from its settings; `ldap`: the loaded `--ldap-config` (ldap-config.ts). */
export function masterConfig(s: MasterSettings, logger: Logger, ldap?: LdapConfig): MasterConfig {
  return {
    ...(ldap ? { ldap } : {}),
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
    ...tlsConfig(s),
    ...(s['sync-replicas'] !== undefined ? { syncReplicas: s['sync-replicas'] } : {}),
    ...(s['sync-timeout'] !== undefined ? { syncTimeoutMs: s['sync-timeout'] } : {}),
    ...(s['sync-degrade'] ? { syncDegrade: true } : {}),
  };
}

/** A replica's config from its settings; `ldap`: the loaded `--ldap-config` (ldap-config.ts). */
export function replicaConfig(s: ReplicaSettings, logger: Logger, ldap?: LdapConfig): ReplicaConfig {
  return {
    ...(ldap ? { ldap } : {}),
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
    ...tlsConfig(s),
    ...(s['tls-ca'] !== undefined ? { tlsCaFile: s['tls-ca'] } : {}),
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
    ...tlsConfig(s),
    ...(s['tls-ca'] !== undefined ? { tlsCaFile: s['tls-ca'] } : {}),
  };
}
