/**
 * In-process promotion of a running replica (docs/operations.md, "Promotion and rejoin"): the
 * replica's server closes (releasing the data directory's lock), `promoteDatadir` commits the next
 * epoch, and a master opens the same data directory on the same host and port — about a second on
 * a small store, during which the port refuses connections (the proxy retries reads elsewhere and
 * answers writes 503 with Retry-After). Automatic failover calls this once it won the election.
 * When the promotion is refused, the replica is started again and the refusal rethrown.
 */
import { createMasterApp, promoteDatadir, type MasterApp, type MasterConfig, type PromoteOptions, type PromotionResult } from '@wheelhouse/master';
import { createReplicaApp, type ReplicaApp, type ReplicaConfig } from '@wheelhouse/replica';

/** Largest release file of a master switched in without its own setting, bytes (the master setting's default). */
const DEFAULT_MAX_FILE_BYTES = 1024 ** 3;

/** Options of {@link switchToMaster}. */
export interface SwitchToMasterOptions {
  /** The running replica and the config it was built from. */
  replica: ReplicaApp;
  replicaConfig: ReplicaConfig;
  /** The port the replica is bound to (the master takes the same one). */
  port: number;
  /** Promotion options besides the data directory and secret file (force, peers, acknowledgedSerial, outsideUrl…). */
  promote?: Omit<PromoteOptions, 'datadir' | 'secretFile'>;
  /** Master settings besides data directory, host, port and secret file (default max file 1 GiB, fsync on). */
  master?: Partial<Omit<MasterConfig, 'datadir' | 'host' | 'port' | 'secretFile'>>;
}

/** The outcome: the listening master and the promotion. */
export interface SwitchedToMaster {
  master: MasterApp;
  promotion: PromotionResult;
  port: number;
}

/**
 * Switches a running replica to master of the next epoch (see module doc). Rejects with
 * `PromotionRefusedError` (the replica then runs again: `error.replica`, listening on the same
 * port) or with the master's start-up error.
 */
export async function switchToMaster(opts: SwitchToMasterOptions): Promise<SwitchedToMaster> {
  const cfg = opts.replicaConfig;
  await opts.replica.close();
  let promotion: PromotionResult;
  try {
    promotion = await promoteDatadir({ ...opts.promote, datadir: cfg.datadir, secretFile: cfg.secretFile });
  } catch (err) {
    const replica = await createReplicaApp({ ...cfg, port: opts.port });
    await replica.listen();
    throw Object.assign(err as Error, { replica });
  }
  const master = await createMasterApp({
    maxFileBytes: DEFAULT_MAX_FILE_BYTES,
    syncCommits: true,
    ...(cfg.logger ? { logger: cfg.logger } : {}),
    ...(cfg.outsideUrl ? { outsideUrl: cfg.outsideUrl } : {}),
    ...opts.master,
    datadir: cfg.datadir,
    host: cfg.host,
    port: opts.port,
    secretFile: cfg.secretFile,
  });
  const port = await master.listen();
  return { master, promotion, port };
}
