/**
 * Metrics of acknowledged-means-replicated (`SyncReplication`), pulled at scrape time:
 * confirmations required, replicas acknowledging now, the last write's wait for its quorum, and the
 * writes answered 503 (timeouts) or without confirmation (`--sync-degrade`).
 */
import type { SyncReplication } from '@wheelhouse/replication';

/** Gauges in the `createNodeMetrics` shape (the counts only grow: counters in effect). */
export function syncGauges(sync: SyncReplication): Array<{ name: string; help: string; value: () => number }> {
  return [
    { name: 'wheelhouse_sync_replicas_required', help: 'replicas that must confirm a write durable before it is answered (--sync-replicas, or its default)', value: () => sync.required() },
    { name: 'wheelhouse_sync_replicas_acknowledging', help: 'replicas whose confirmations reached the head or arrived within the sync timeout', value: () => sync.stats().acknowledging },
    { name: 'wheelhouse_sync_last_ack_lag_seconds', help: 'wait of the last write for its replicas\' confirmation (-1: none yet)', value: () => { const ms = sync.stats()['last-ack-lag-ms']; return ms === null ? -1 : ms / 1000; } },
    { name: 'wheelhouse_sync_timeouts', help: 'writes answered 503 since start: too few replicas confirmed within the sync timeout', value: () => sync.timeouts },
    { name: 'wheelhouse_sync_degraded_writes', help: 'writes answered without the required confirmations since start (--sync-degrade)', value: () => sync.degradedWrites },
    { name: 'wheelhouse_sync_degraded', help: '1 while the master answers writes asynchronously until the replicas catch up (--sync-degrade)', value: () => (sync.stats().degraded ? 1 : 0) },
  ];
}
