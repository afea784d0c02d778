/**
 * `wheelhouse promote`: turns a stopped replica's data directory into a master's, in the next
 * epoch (docs/operations.md, "Promotion and rejoin"). Refused unless the replica holds everything
 * the old master may have acknowledged, as far as anyone can tell: the old master itself (when it
 * still answers: then it must be fenced, or there would be two masters) and the peers given
 * (other replicas, the proxy) report the highest serial they saw committed; the replica's head
 * must reach it. `force` promotes anyway and reports what may be missing.
 */
import { copyFile, access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Changelog, lockDataDir } from '@wheelhouse/changelog';
import { currentEpoch, writeEpoch } from '@wheelhouse/replication';
import { request } from 'undici';

/** Options of {@link promoteDatadir}. */
export interface PromoteOptions {
  /** The replica's data directory (the replica must not run: its lock is taken). */
  datadir: string;
  /** Promote even when not shown to be caught up; the result lists what may be missing. */
  force?: boolean;
  /** The old master (default: the URL the replica followed, from its metadata `master-url`). */
  masterUrl?: string;
  /** Other nodes and proxies to ask for the highest committed serial (`/+status`). */
  peers?: string[];
  /**
   * The highest serial the caller knows was acknowledged (e.g. from etcd); when given, peers are
   * not asked (the old master still is, for the two-masters check, unless `masterUrl` is '').
   */
  acknowledgedSerial?: number;
  /** URL the new master will be reached at (recorded in the epoch record; default ''). */
  outsideUrl?: string;
  /** The replica's secret file, copied to `<datadir>/secret` when that is absent. */
  secretFile?: string;
  /**
   * The least epoch to promote to (automatic failover: the epoch the etcd campaign granted); the
   * new epoch is the highest of this, and one above what the replica and the witnesses know.
   */
  epoch?: number;
  /** Per peer request, ms (default 2,000). */
  timeoutMs?: number;
}

/** What one asked node said. */
export interface PromotionEvidence {
  url: string;
  /** `MASTER`, `REPLICA`, `PROXY` (its `/+status` role). */
  role?: string;
  /** Highest serial it reports as committed by the master. */
  serial?: number;
  epoch?: number;
  /** Whether it (a master) is fenced. */
  fenced?: boolean;
  error?: string;
}

/** The outcome of a promotion. */
export interface PromotionResult {
  /** The new epoch. */
  epoch: number;
  previousEpoch: number;
  /** Serial of the epoch record (the first serial of the new term). */
  serial: number;
  /** The replica's head before promotion. */
  head: number;
  /** Highest serial any witness reported (-1: none could tell). */
  acknowledged: number;
  /** Serials that may be missing (only when forced): head+1..acknowledged. */
  missing: number[];
  /** True when nobody could confirm what was acknowledged (forced). */
  unconfirmed: boolean;
  evidence: PromotionEvidence[];
  /** Store UUID of the new master. */
  uuid: string;
}

/** A refused promotion: `reason` for people, `missing` serials when behind. */
export class PromotionRefusedError extends Error {
  constructor(readonly reason: string, readonly missing: number[] = [], readonly evidence: PromotionEvidence[] = []) {
    super(reason);
    this.name = 'PromotionRefusedError';
  }
}

/** Where a replica's store lives inside its data directory (`current-db` pointer, default `db`). */
async function replicaDbDir(datadir: string): Promise<string> {
  const pointer = await readFile(join(datadir, 'current-db'), 'utf8').then((t) => t.trim(), () => 'db');
  return pointer || 'db';
}

/** Asks `url` for `/+status`: the highest serial it reports committed by the master. Never rejects. */
export async function askStatus(url: string, timeoutMs: number): Promise<PromotionEvidence> {
  const base = url.replace(/\/+$/, '');
  try {
    const res = await request(`${base}/+status`, { headers: { accept: 'application/json' }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.body.json()) as { result?: Record<string, unknown> } & Record<string, unknown>;
    const st = (body.result ?? body) as Record<string, unknown>;
    const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined);
    const role = typeof st.role === 'string' ? st.role : undefined;
    let serial: number | undefined;
    if (role === 'MASTER') serial = num(st.serial);
    else if (role === 'REPLICA') serial = Math.max(num(st['master-serial']) ?? -1, num(st.serial) ?? -1);
    else if (role === 'PROXY') {
      const backends = Array.isArray(st.backends) ? (st.backends as Array<Record<string, unknown>>) : [];
      serial = Math.max(num(st['write-serial']) ?? -1, ...backends.filter((b) => b.role === 'master').map((b) => num(b.serial) ?? -1));
    }
    const epochHeader = res.headers['x-wheelhouse-epoch'];
    const epoch = num(st.epoch) ?? (typeof epochHeader === 'string' ? Number(epochHeader) : undefined);
    return { url: base, ...(role ? { role } : {}), ...(serial !== undefined ? { serial } : {}), ...(epoch !== undefined ? { epoch } : {}), ...(role === 'MASTER' ? { fenced: Boolean(st.fenced) } : {}) };
  } catch (err) {
    return { url: base, error: (err as Error).message };
  }
}

/** Serials from..to as a list (at most 10,000 listed). */
function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let s = from; s <= to && out.length < 10_000; s++) out.push(s);
  return out;
}

/**
 * Promotes the replica at `opts.datadir` (see module doc). Throws PromotionRefusedError when
 * refused, DataDirInUseError while the replica runs, NotInitialisedError without a store.
 */
export async function promoteDatadir(opts: PromoteOptions): Promise<PromotionResult> {
  const timeoutMs = opts.timeoutMs ?? 2_000;
  const lock = lockDataDir(opts.datadir);
  try {
    const dbDir = await replicaDbDir(opts.datadir);
    if (dbDir !== 'db') throw new PromotionRefusedError(`the replica serves ${dbDir} (it followed a rebuilt master); let it finish switching, or rename ${dbDir} to db, before promoting`);
    const changelog = await Changelog.open({ location: join(opts.datadir, dbDir) });
    try {
      const head = changelog.head;
      const previousEpoch = currentEpoch(changelog);
      const masterUrl = opts.masterUrl ?? changelog.getMeta('master-url') ?? '';
      const evidence: PromotionEvidence[] = [];
      const asked = [...(masterUrl ? [masterUrl] : []), ...(opts.acknowledgedSerial === undefined ? opts.peers ?? [] : [])];
      evidence.push(...(await Promise.all(asked.map((u) => askStatus(u, timeoutMs)))));
      const oldMaster = masterUrl ? evidence[0] : undefined;
      if (oldMaster && oldMaster.role === 'MASTER' && !oldMaster.fenced && (oldMaster.epoch ?? 1) >= previousEpoch && !opts.force) {
        throw new PromotionRefusedError(`the master at ${oldMaster.url} still answers and is not fenced: promoting now would make two masters; stop it first (or --force)`, [], evidence);
      }
      const reported = evidence.map((e) => e.serial ?? -1);
      const acknowledged = Math.max(opts.acknowledgedSerial ?? -1, ...reported, -1);
      const newerEpoch = Math.max(...evidence.map((e) => e.epoch ?? 0), 0);
      const unconfirmed = opts.acknowledgedSerial === undefined && evidence.every((e) => e.serial === undefined);
      const missing = range(head + 1, acknowledged);
      if (!opts.force) {
        if (unconfirmed) throw new PromotionRefusedError(`no witness could tell what the master acknowledged (asked: ${asked.join(', ') || 'nobody'}): give --peer URLs (other replicas, the proxy) or --force`, [], evidence);
        if (missing.length) throw new PromotionRefusedError(`the replica is behind: its head is serial ${head} but serial ${acknowledged} was committed (reported by ${evidence.filter((e) => (e.serial ?? -1) === acknowledged).map((e) => e.url).join(', ') || 'the caller'}); missing serials ${head + 1}..${acknowledged}. Let it catch up, or --force`, missing, evidence);
      }
      const epoch = Math.max(previousEpoch + 1, newerEpoch + 1, opts.epoch ?? 0);
      const { serial } = await changelog.write((tx) => {
        writeEpoch(tx, { epoch, uuid: changelog.uuid, url: opts.outsideUrl ?? '', serial: tx.serial, at: tx.at, ...(opts.force && (missing.length || unconfirmed) ? { forced: true } : {}) });
      });
      await changelog.setMeta('promoted', JSON.stringify({ epoch, serial, at: new Date().toISOString(), missing: missing.length }));
      const secret = join(opts.datadir, 'secret');
      if (opts.secretFile && !(await access(secret).then(() => true, () => false))) await copyFile(opts.secretFile, secret);
      return { epoch, previousEpoch, serial: serial!, head, acknowledged, missing, unconfirmed, evidence, uuid: changelog.uuid };
    } finally {
      await changelog.close();
    }
  } finally {
    lock.release();
  }
}
