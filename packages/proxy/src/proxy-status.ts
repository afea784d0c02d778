/** The proxy's `/+status` object: its write mark and each backend's state, as plain JSON. */
import type { BackendPool } from './backends.js';

/** One backend in `/+status` (keys as in devpi's status: kebab-case). */
export interface BackendStatus {
  name: string;
  url: string;
  role: 'master' | 'replica';
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
  [k: string]: unknown;
}

/** The proxy's status (`role: 'PROXY'`). */
export interface ProxyStatus {
  role: 'PROXY';
  /** Highest serial a write answer carried (-1 none). */
  'write-serial': number;
  backends: BackendStatus[];
  [k: string]: unknown;
}

/** The status of `pool` at `now` (ms since epoch). Pure. */
export function proxyStatus(pool: BackendPool, now = Date.now()): ProxyStatus {
  const master = pool.master;
  return {
    role: 'PROXY',
    'write-serial': pool.writeMark.serial,
    backends: pool.backends.map((b) => ({
      name: b.name,
      url: b.url,
      role: b.role,
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
