/**
 * A master with `--etcd`: it holds the leader key (`Leadership`) and its changelog commits only
 * while the lease permit holds (`MasterConfig.writePermit`). Finding etcd's epoch above its own
 * (it was superseded while down) fences it durably (`Fence.observe`), until `wheelhouse rejoin`.
 */
import type { Logger } from 'pino';
import { connectEtcd, Leadership, leaseTiming, type EtcdEndpoint, type LeaseHolder } from '@wheelhouse/failover';
import type { MasterApp, MasterConfig } from '@wheelhouse/master';

/** A master's link to etcd, made before the master app (its permit goes into the app's config). */
export interface MasterFailover {
  /** The permit for `MasterConfig.writePermit`. */
  writePermit: NonNullable<MasterConfig['writePermit']>;
  /** Starts leading once the app listens at `url` (`held`: a lease the campaign already put the key under). */
  start(app: MasterApp, url: string, held?: LeaseHolder): void;
  /** Revokes the lease (a clean stop hands leadership over at once) and closes the client. */
  stop(): Promise<void>;
}

/** Connects to etcd for a master (see module doc). */
export function masterFailover(endpoint: EtcdEndpoint, ttlMs: number | undefined, log: Logger): MasterFailover {
  const timing = leaseTiming(ttlMs);
  const { client, ns } = connectEtcd(endpoint);
  let app: MasterApp | undefined;
  let url = '';
  let leadership: Leadership | undefined;
  return {
    writePermit: {
      refusal: () => (leadership ? leadership.refusal() : 'not yet elected'),
      status: () => ({ etcd: endpoint.hosts, prefix: endpoint.prefix, ...(leadership?.status() ?? { state: 'fenced', reason: 'not yet elected' }) }),
    },
    start: (started, at, held) => {
      app = started;
      url = at;
      leadership = new Leadership(
        ns,
        timing,
        { node: started.changelog.uuid, url, epoch: () => app!.fence.epoch() },
        log,
        (etcdEpoch) => app?.fence.observe(etcdEpoch, `etcd ${endpoint.hosts.join(',')} (leader key epoch)`),
      );
      leadership.start(held);
    },
    stop: async () => {
      await leadership?.stop();
      client.close();
    },
  };
}
