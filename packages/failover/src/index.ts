/**
 * Automatic failover on etcd: fencing by lease (`lease-fence.ts`), the master's leadership key
 * (`leadership.ts`), the replicas' candidacy and campaign (`candidacy.ts`, `campaign-decision.ts`),
 * and the leader watch the proxy and replicas follow (`leader-watch.ts`). Key layout in
 * `etcd-layout.ts`.
 */
export {
  DEFAULT_DRIFT_RATE,
  DEFAULT_LEASE_TTL_MS,
  DEFAULT_MARGIN_MS,
  LeasePermit,
  etcdTtlSeconds,
  fenceDeadline,
  keepaliveIntervalMs,
  leaseTiming,
  type LeaseTiming,
} from './lease-fence.js';
export { bestCandidate, campaignDecision, moreCaughtUp, type Candidate, type CampaignDecision } from './campaign-decision.js';
export { DEFAULT_ETCD_PREFIX, KEYS, connectEtcd, parseLeader, readLeadership, type EtcdEndpoint, type LeaderRecord } from './etcd-layout.js';
export { LeaseHolder } from './lease-holder.js';
export { Leadership, tryAcquire, type AcquireResult, type LeadershipStatus, type MasterIdentity } from './leadership.js';
export { Candidacy, type CandidacyOptions, type CandidacyStatus, type CandidateSelf } from './candidacy.js';
export { LeaderWatch, type LeaderView } from './leader-watch.js';
export { startLocalEtcd, type LocalEtcd } from './local-etcd.js';
