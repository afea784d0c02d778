/**
 * A replica with `--etcd`: one process that serves as a replica and, when the etcd campaign elects
 * it, becomes the master in place (docs/operations.md, "Automatic failover with etcd"):
 *
 * 1. as a replica it registers as a candidate (`Candidacy`) and follows the leader key — a new
 *    leader re-points its tailer and write forwarder (`ReplicaApp.repoint`);
 * 2. elected (the etcd transaction wrote the leader key under its lease, with the next epoch), it
 *    closes the replica (releasing the data directory), commits the epoch record
 *    (`promoteDatadir` with the campaign's epoch; the etcd decision is the evidence that it holds
 *    the most, so no peer survey), opens a master on the same data directory, host and port, and
 *    leads under the same lease (`Leadership`, fencing by lease) — about a second; the switch is
 *    the one of `wheelhouse promote`'s in-process path, `switchToMaster` (role-switch.ts);
 * 3. if promotion fails the lease is revoked (another replica campaigns) and the process exits 1.
 *
 * A data directory that a promotion already turned into a master's (its newest epoch record names
 * its own store) starts as a master again, e.g. after a restart.
 */
import { join } from 'node:path';
import { access } from 'node:fs/promises';
import type { Logger } from 'pino';
import { Changelog } from '@wheelhouse/changelog';
import { Candidacy, connectEtcd, leaseTiming, type EtcdEndpoint, type LeaseHolder } from '@wheelhouse/failover';
import { createMasterApp, type MasterApp } from '@wheelhouse/master';
import { createReplicaApp, type ReplicaApp, type ReplicaConfig } from '@wheelhouse/replica';
import { epochHistory } from '@wheelhouse/replication';
import { httpUrl } from '@wheelhouse/http';
import { switchToMaster } from '../role-switch.js';
import { masterFailover } from './master-leadership.js';

/** What a failover node needs besides the replica's config. */
export interface FailoverNodeOptions {
  replica: ReplicaConfig;
  endpoint: EtcdEndpoint;
  /** Leadership lease TTL, ms (default 5,000). */
  ttlMs?: number;
  /** URL peers reach this node at (default http://host:port). */
  nodeUrl?: string;
  /** Largest release file the node accepts once master, bytes. */
  maxFileBytes: number;
  log: Logger;
}

/** A running failover node. */
export interface FailoverNode {
  /** `replica` until elected, then `master`. */
  role(): 'replica' | 'master';
  /** Bound port. */
  port: number;
  stop(): Promise<void>;
}

/** Whether the store in `datadir` is a promoted master's: its newest epoch record names its own store UUID. */
export async function isPromotedDatadir(datadir: string): Promise<boolean> {
  const location = join(datadir, 'db');
  if (!(await access(location).then(() => true, () => false)) || !(await Changelog.exists(location))) return false;
  const changelog = await Changelog.open({ location });
  try {
    const last = epochHistory(changelog).at(-1);
    return last !== undefined && last.uuid === changelog.uuid && changelog.getMeta('promoted') !== undefined;
  } finally {
    await changelog.close();
  }
}

/** Starts the node (see module doc); rejects when it cannot start. */
export async function startFailoverNode(opts: FailoverNodeOptions): Promise<FailoverNode> {
  const { log, endpoint } = opts;
  const timing = leaseTiming(opts.ttlMs);
  const rc = opts.replica;
  let master: MasterApp | undefined;
  let masterLink: ReturnType<typeof masterFailover> | undefined;
  let port = rc.port;
  const url = (): string => opts.nodeUrl ?? httpUrl(rc.host, port, rc.tls ? 'https' : 'http');

  /** The master's settings besides data directory, host, port and secret file, leading under `link`'s lease. */
  const masterSettings = (link: ReturnType<typeof masterFailover>) => ({
    maxFileBytes: opts.maxFileBytes,
    syncCommits: true,
    logger: log,
    writePermit: link.writePermit,
    ...(rc.outsideUrl ? { outsideUrl: rc.outsideUrl } : {}),
    // the replica's sign-in and TLS carry over to the master it becomes
    ...(rc.ldap ? { ldap: rc.ldap } : {}),
    ...(rc.tls ? { tls: rc.tls } : {}),
  });
  /** Leads as `app` (now listening) under the lease `held` (a new one when absent). */
  const lead = (app: MasterApp, link: ReturnType<typeof masterFailover>, held?: LeaseHolder): void => {
    master = app;
    masterLink = link;
    link.start(app, url(), held);
    log.warn({ url: url(), epoch: app.fence.epoch(), serial: app.changelog.head }, 'failover: serving as master');
  };

  if (await isPromotedDatadir(rc.datadir)) {
    const link = masterFailover(endpoint, opts.ttlMs, log);
    const app = await createMasterApp({ ...masterSettings(link), datadir: rc.datadir, host: rc.host, port, secretFile: rc.secretFile });
    port = await app.listen();
    lead(app, link);
    return { role: () => 'master', port, stop: async () => { await masterLink?.stop(); await master?.close(); } };
  }

  const { client, ns } = connectEtcd(endpoint);
  let candidacy: Candidacy | undefined;
  const replica: ReplicaApp = await createReplicaApp({ ...rc, failoverStatus: () => ({ etcd: endpoint.hosts, prefix: endpoint.prefix, ...(candidacy?.status() ?? {}) }) });
  port = await replica.listen();
  let switching: Promise<void> | undefined;
  let followed = rc.masterUrl.replace(/\/+$/, '');

  const promote = async (epoch: number, lease: LeaseHolder): Promise<void> => {
    const head = replica.changelog.head;
    const startedAt = performance.now();
    try {
      const link = masterFailover(endpoint, opts.ttlMs, log);
      const switched = await switchToMaster({ replica, replicaConfig: rc, port, promote: { masterUrl: '', acknowledgedSerial: head, epoch, outsideUrl: url() }, master: masterSettings(link) });
      if (switched.promotion.epoch !== epoch) log.error({ granted: epoch, committed: switched.promotion.epoch }, 'failover: the store committed another epoch than etcd granted');
      port = switched.port;
      lead(switched.master, link, lease);
      log.warn({ epoch: switched.promotion.epoch, head, ms: Math.round(performance.now() - startedAt) }, 'failover: promoted in place (ms since elected)');
    } catch (err) {
      log.fatal({ err: (err as Error).message }, 'failover: promotion failed; giving the leadership up');
      await lease.revoke();
      process.exit(1);
    }
  };

  candidacy = new Candidacy({
    ns,
    timing,
    log,
    self: { id: replica.changelog.uuid, url: url(), progress: () => ({ epoch: replica.tailer.epoch(), serial: replica.durableSerial() }) },
    onLeader: (leader) => {
      const to = leader.url.replace(/\/+$/, '');
      if (leader.node === replica.changelog.uuid || to === followed) return;
      followed = to;
      void replica.repoint(to).catch((err: Error) => log.error({ err: err.message }, 'failover: could not re-point to the new master'));
    },
    onElected: (epoch, lease) => {
      switching = promote(epoch, lease);
    },
  });
  candidacy.start();
  return {
    role: () => (master ? 'master' : 'replica'),
    port,
    stop: async () => {
      await candidacy?.stop();
      await switching;
      if (master) {
        await masterLink?.stop();
        await master.close();
      } else {
        await replica.close();
      }
      client.close();
    },
  };
}
