/**
 * The master's changelog feed for replicas (DESIGN "Replication protocol"; devpi's URLs and timing):
 *
 * - `GET /+changelog/{serial}`: that one record as a frame; when `serial` is the next one, waits
 *   for it (long poll) and answers `202` with the current serial when nothing arrived in time.
 * - `GET /+changelog/{serial}-`: a stream of frames from `serial` on, then held open, sending each
 *   new record the moment it commits, ending after the poll timeout without records. Headers
 *   (status 200, `X-Devpi-Serial`, the master's UUID) go out at once and empty heartbeat frames
 *   every few seconds while idle, so a caught-up replica knows at once, and all along, that its
 *   master is there.
 * - `404` for a serial beyond the next one. Without a valid replica token (`Authorization: Bearer`,
 *   signed with the shared secret's replica key): `403` — the changelog carries password hashes
 *   and private packages.
 * - `GET /+blob/{sha256}`: the bytes of a stored file, for replica file replication.
 *
 * Each frame is `length (4 bytes) | checksum (8 bytes) | msgpack record` (`encodeFrame`). The master
 * keeps a list of the replicas that poll it (id, outside URL, applied serial, last seen). The
 * frames themselves come from `feed-frames.ts` (no HTTP there); this router only maps them onto
 * express. Masters and replicas mount the same router (replicas: backups, chained replicas).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import express, { type Request, type Response, type Router } from 'express';
import { StoreClosedError, type Changelog, type FileStore } from '@wheelhouse/changelog';
import { DivergedError, FencedError, NotFoundError, handle, param, type TokenSigner } from '@wheelhouse/core';
import { epochHistory, feedVerdict, newerTermStart, parseEpoch, type EpochRecord } from './epochs.js';
import { FEED_HEARTBEAT_MS, FEED_POLL_MS, authorizeReplica, feedFrames, feedRecord, parseFeedSpec } from './feed-frames.js';

/** Media type of the feed's body. */
export const FEED_CONTENT_TYPE = 'application/x-wheelhouse-changelog';

/** What the master knows of a replica. */
export interface ReplicaInfo {
  id: string;
  /** the replica's outside URL, as it says */
  url: string;
  /** last serial sent to (or, on a new request, applied by) the replica */
  serial: number;
  /** ms since epoch of the last request or of the last frame sent on an open stream */
  lastSeen: number;
  /** an open stream to it right now */
  streaming: boolean;
}

/** Options of the feed. */
export interface FeedOptions {
  changelog: Changelog;
  files: FileStore;
  /** Signer with the replica purpose (see `replicaTokenSigner`). */
  replicaTokens: TokenSigner;
  /** Long-poll time, ms (default 30,000). */
  pollMs?: number;
  /** Heartbeat interval on an idle stream, ms (default 5,000). */
  heartbeatMs?: number;
  /** The store's epoch history (default: read from the changelog on each request). */
  epochs?: () => EpochRecord[];
  /**
   * The master's fence (`master/src/roles/fence.ts`): while fenced the feed refuses replicas (503
   * EFENCED); a replica claiming a higher epoch fences the master. Absent (a replica's feed): no fencing.
   */
  fence?: { observe(epoch: number | undefined, source: string): boolean; fenced(): unknown; message(): string };
  /** Called when a replica is seen for the first time (its id and URL), e.g. to remember peers. */
  onNewReplica?: (info: ReplicaInfo) => void;
}

/** The replica list plus the feed router. */
export interface ChangelogFeed {
  router: Router;
  replicas(): ReplicaInfo[];
}

/** Builds the feed (see module doc). */
export function createChangelogFeed(opts: FeedOptions): ChangelogFeed {
  const { changelog, files, replicaTokens } = opts;
  const pollMs = opts.pollMs ?? FEED_POLL_MS;
  const heartbeatMs = opts.heartbeatMs ?? FEED_HEARTBEAT_MS;
  const known = new Map<string, ReplicaInfo>();
  const router = express.Router();

  const register = (req: Request, since: number): ReplicaInfo | undefined => {
    const id = req.headers['x-wheelhouse-replica-id'];
    if (typeof id !== 'string' || !id) return undefined;
    const url = req.headers['x-wheelhouse-replica-url'];
    const isNew = !known.has(id);
    const info: ReplicaInfo = known.get(id) ?? { id, url: '', serial: -1, lastSeen: 0, streaming: false };
    const oldUrl = info.url;
    info.url = typeof url === 'string' ? url : info.url;
    if ((isNew || oldUrl !== info.url) && info.url) opts.onNewReplica?.(info);
    info.serial = since - 1;
    info.lastSeen = Date.now();
    known.set(id, info);
    return info;
  };

  router.get('/\\+changelog/:spec', handle(async (req: Request, res: Response) => {
    authorizeReplica(req.headers.authorization, replicaTokens);
    const { since, streaming } = parseFeedSpec(param(req, 'spec'), changelog.head);
    const replica = register(req, since);
    checkEpoch(req, since, replica);
    res.setHeader('Content-Type', FEED_CONTENT_TYPE);
    res.setHeader('Cache-Control', 'no-store');
    if (!streaming) {
      const frame = await feedRecord(changelog, since, pollMs);
      if (!frame) return void res.status(202).end();
      res.setHeader('X-Devpi-Serial', String(changelog.head));
      res.end(frame);
      return;
    }
    try {
      await stream(res, since, replica);
    } catch (err) {
      // the node is shutting down under an open stream: end it quietly
      if (err instanceof StoreClosedError) res.destroy();
      else throw err;
    }
  }));

  /** The epoch rule of the feed (`feedVerdict`): refuses stale masters' and diverged replicas' requests. */
  function checkEpoch(req: Request, since: number, replica: ReplicaInfo | undefined): void {
    const fence = opts.fence;
    const claimed = parseEpoch(req.headers['x-wheelhouse-epoch']);
    const history = opts.epochs?.() ?? epochHistory(changelog);
    const verdict = feedVerdict(history, claimed, since);
    const who = replica ? `replica ${replica.url || replica.id}` : `replica at ${req.socket.remoteAddress ?? '?'}`;
    if (verdict === 'fence' && fence) fence.observe(claimed, who);
    if (fence?.fenced()) throw new FencedError(fence.message());
    if (verdict === 'fence') throw new FencedError(`this node is in epoch ${history[history.length - 1]!.epoch} but the replica is in epoch ${claimed}: it follows a newer master`);
    if (verdict === 'diverged') {
      const start = newerTermStart(history, claimed!)!;
      throw new DivergedError(`the replica (epoch ${claimed}, head ${since - 1}) holds serials ${start}..${since - 1} of an older term, but epoch ${history.find((e) => e.epoch > claimed!)!.epoch} began at serial ${start} on this master: it diverged and must rejoin (wheelhouse rejoin)`);
    }
  }

  async function stream(res: Response, since: number, replica: ReplicaInfo | undefined): Promise<void> {
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    if (replica) replica.streaming = true;
    try {
      res.setHeader('X-Devpi-Serial', String(changelog.head));
      res.status(200);
      res.flushHeaders();
      for await (const item of feedFrames(changelog, since, { pollMs, heartbeatMs, signal: gone.signal })) {
        if (!res.write(item.frame)) await new Promise((r) => res.once('drain', r));
        if (replica) {
          replica.lastSeen = Date.now();
          if (item.kind === 'record') replica.serial = Math.max(replica.serial, item.serial);
        }
      }
      res.end();
    } finally {
      if (replica) {
        replica.streaming = false;
        replica.lastSeen = Date.now();
      }
    }
  }

  router.get('/\\+blob/:sha256', handle(async (req: Request, res: Response) => {
    authorizeReplica(req.headers.authorization, replicaTokens);
    const sha256 = param(req, 'sha256');
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new NotFoundError(`no such file ${sha256}`);
    const path = files.pathFor(sha256);
    const st = await stat(path).catch(() => undefined);
    if (!st) throw new NotFoundError(`file ${sha256} is not on the master`);
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', String(st.size));
    const s = createReadStream(path);
    s.on('error', () => res.destroy());
    s.pipe(res);
  }));

  return {
    router,
    replicas: () => [...known.values()].map((r) => ({ ...r, lastSeen: r.streaming ? Date.now() : r.lastSeen })),
  };
}
