/** The proxy's `/+status` object: its write mark and each backend's state, as plain JSON. */
import type { ProxyBackendStatus, ProxyStatus } from '@wheelhouse/http';
import type { BackendPool } from './backends.js';

export type { ProxyStatus };

/** One backend in `/+status` (the shape is http's, shared with the status page and the CLI). */
export type BackendStatus = ProxyBackendStatus;

/** The status of `pool` at `now` (ms since epoch). Pure. */
export function proxyStatus(pool: BackendPool, now = Date.now()): ProxyStatus {
  const master = pool.master;
  return {
    role: 'PROXY',
    'write-serial': pool.writeMark.serial,
    epoch: pool.highestEpoch,
    leader: pool.leader?.url ?? null,
    ...(pool.failover ? { failover: pool.failover() } : {}),
    backends: pool.backends.map((b) => ({
      name: b.name,
      url: b.url,
      role: b.role,
      epoch: b.epoch,
      'announced-role': b.announcedRole ?? null,
      usable: b.usable(now),
      up: b.up,
      draining: b.draining,
      ejected: b.ejectedUntil > now,
      ejections: b.ejections,
      serial: b.serial,
      'lag-serials': b.role === 'replica' && master && master.serial >= 0 && b.serial >= 0 ? Math.max(0, master.serial - b.serial) : null,
      outstanding: b.outstanding,
      requests: b.requests,
      'last-check': b.lastCheck ? new Date(b.lastCheck).toISOString() : null,
      'last-error': b.lastError ?? null,
    })),
  };
}
