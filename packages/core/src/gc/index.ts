/** Garbage collection of blobs and retention policies (docs/operations.md, "Retention, cleanup and garbage collection"). */
export { collectableBlobs, followersReached, type FollowerPosition, type FollowersVerdict, type StoredBlob } from './collectable.js';
export { BlobCollector, type BlobCollectorOptions, type CollectedState, type GcReport } from './blob-collector.js';
export { LEASE_REFRESH_MS, LEASE_STALE_MS, liveBlobLeases, takeBlobLease, type BlobLease } from './leases.js';
export { RETENTION_SCHEMA, versionsToRemove, type Removal, type RetentionPolicy, type VersionAge } from './retention.js';
export { CLEANUP_PRINCIPAL, requireOperator } from './operator-access.js';
export { createGcRouter, type GcRouterDeps } from './gc-routes.js';
export { registerGcMetrics } from './gc-metrics.js';
export { diskUsageByIndex, type IndexUsage } from './disk-usage.js';
