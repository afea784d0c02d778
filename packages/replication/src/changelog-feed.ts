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
 * keeps a list of the replicas that poll it (id, outside URL, applied serial, last seen).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import express, { type Request, type Response, type Router } from 'express';
import { StoreClosedError, encodeFrame, type Changelog, type FileStore } from '@wheelhouse/changelog';
import { ForbiddenError, NotFoundError, handle, param, type TokenSigner } from '@wheelhouse/core';

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
}

const HEARTBEAT = encodeFrame(new Uint8Array(0));

/** The replica list plus the feed router. */
export interface ChangelogFeed {
  router: Router;
  replicas(): ReplicaInfo[];
}

/** Builds the feed (see module doc). */
export function createChangelogFeed(opts: FeedOptions): ChangelogFeed {
  const { changelog, files, replicaTokens } = opts;
  const pollMs = opts.pollMs ?? 30_000;
  const heartbeatMs = opts.heartbeatMs ?? 5_000;
  const known = new Map<string, ReplicaInfo>();
  const router = express.Router();

  const authorize = (req: Request): void => {
    const auth = req.headers.authorization ?? '';
    const token = /^Bearer (.+)$/i.exec(auth)?.[1];
    if (!token || replicaTokens.verify(token, '+replica') === undefined) {
      throw new ForbiddenError('the changelog is only served to replicas with a valid replica token (same --secret-file as the master)');
    }
  };

  const register = (req: Request, since: number): ReplicaInfo | undefined => {
    const id = req.headers['x-wheelhouse-replica-id'];
    if (typeof id !== 'string' || !id) return undefined;
    const url = req.headers['x-wheelhouse-replica-url'];
    const info: ReplicaInfo = known.get(id) ?? { id, url: '', serial: -1, lastSeen: 0, streaming: false };
    info.url = typeof url === 'string' ? url : info.url;
    info.serial = since - 1;
    info.lastSeen = Date.now();
    known.set(id, info);
    return info;
  };

  router.get('/\\+changelog/:spec', handle(async (req: Request, res: Response) => {
    authorize(req);
    const spec = param(req, 'spec');
    const m = /^(\d+)(-?)$/.exec(spec);
    if (!m) throw new NotFoundError(`no such changelog entry '${spec}'`);
    const since = Number(m[1]);
    const streaming = m[2] === '-';
    if (since > changelog.head + 1) throw new NotFoundError(`serial ${since} is beyond the next serial ${changelog.head + 1}`);
    const replica = register(req, since);
    res.setHeader('Content-Type', FEED_CONTENT_TYPE);
    res.setHeader('Cache-Control', 'no-store');
    if (!streaming) {
      if (since > changelog.head && !(await changelog.waitForSerial(since, pollMs))) return void res.status(202).end();
      const rec = await changelog.getRecord(since);
      if (!rec) throw new NotFoundError(`serial ${since} is not in the changelog`);
      res.setHeader('X-Devpi-Serial', String(changelog.head));
      res.end(encodeFrame(rec.bytes));
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

  async function stream(res: Response, since: number, replica: ReplicaInfo | undefined): Promise<void> {
    let closed = false;
    res.on('close', () => (closed = true));
    if (replica) replica.streaming = true;
    const touch = (serial: number): void => {
      if (!replica) return;
      replica.lastSeen = Date.now();
      if (serial >= 0) replica.serial = Math.max(replica.serial, serial);
    };
    try {
      let next = since;
      let idleSince = Date.now();
      res.setHeader('X-Devpi-Serial', String(changelog.head));
      res.status(200);
      res.flushHeaders();
      while (!closed) {
        for await (const rec of changelog.changesSince(next)) {
          if (closed) break;
          if (!res.write(encodeFrame(rec.bytes))) await new Promise((r) => res.once('drain', r));
          next = rec.serial + 1;
          idleSince = Date.now();
        }
        if (closed) break;
        const remaining = pollMs - (Date.now() - idleSince);
        if (remaining <= 0) break;
        touch(next - 1);
        const arrived = await changelog.waitForSerial(next, Math.min(remaining, heartbeatMs));
        if (!arrived && !closed) {
          res.write(HEARTBEAT);
          touch(-1);
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
    authorize(req);
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
