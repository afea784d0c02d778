/**
 * The etcd part of a role's validated settings (`--etcd`, `--etcd-prefix`, `--etcd-lease-ttl`,
 * `--node-url`) → what `@wheelhouse/failover` takes. Pure.
 */
import { leaseTiming, type EtcdEndpoint, type LeaseTiming } from '@wheelhouse/failover';

/** The etcd settings every role with failover has. */
export interface EtcdSettings {
  etcd: string[];
  'etcd-prefix': string;
  'etcd-lease-ttl'?: number;
}

/** Where etcd is, or undefined when `--etcd` is not given (no automatic failover). */
export function etcdEndpoint(s: EtcdSettings): EtcdEndpoint | undefined {
  if (s.etcd.length === 0) return undefined;
  return { hosts: s.etcd.map((u) => u.replace(/\/+$/, '')), prefix: s['etcd-prefix'] };
}

/** The lease timing from `--etcd-lease-ttl` (ms). */
export function etcdTiming(s: EtcdSettings): LeaseTiming {
  return leaseTiming(s['etcd-lease-ttl']);
}
