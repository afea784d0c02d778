/**
 * The etcd part of a role's validated settings (`--etcd`, `--etcd-prefix`, `--etcd-lease-ttl`,
 * `--node-url`) → what `@wheelhouse/failover` takes. Pure.
 */
// types only: the etcd client (gRPC) is loaded only by nodes started with --etcd
import type { EtcdEndpoint } from '@wheelhouse/failover';

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

/** The leadership lease TTL from `--etcd-lease-ttl`, ms (undefined: the default). */
export function etcdTtlMs(s: EtcdSettings): number | undefined {
  return s['etcd-lease-ttl'];
}
