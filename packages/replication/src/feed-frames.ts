/**
 * The frame-producing half of the changelog feed, apart from HTTP (the express router in
 * `changelog-feed.ts` is a thin wrapper): which request is valid, the one-record long poll, and the
 * stream of frames from a serial on with heartbeats while idle. Each function works on a
 * `Changelog` alone, so it is unit-tested on `Changelog.openInMemory()`.
 */
import type { Changelog } from '@wheelhouse/changelog';
import { ForbiddenError, NotFoundError, REPLICA_SUBJECT, type TokenSigner } from '@wheelhouse/core';
import { encodeFrame } from './frames.js';

/** Long-poll time of the feed, ms: a stream ends, and a one-record request answers 202, after this long without records. */
export const FEED_POLL_MS = 30_000;
/** Heartbeat interval on an idle stream, ms. */
export const FEED_HEARTBEAT_MS = 5_000;

/** The empty frame sent while idle: it tells a caught-up replica that its master is there. */
export const HEARTBEAT_FRAME: Uint8Array = encodeFrame(new Uint8Array(0));

/** One frame of the stream: a record (with its serial) or a heartbeat. */
export type FeedFrame = { kind: 'record'; serial: number; frame: Uint8Array } | { kind: 'heartbeat'; frame: Uint8Array };

/** A request for the feed: the first serial wanted and whether it is a stream (`{serial}-`) or one record (`{serial}`). */
export interface FeedRequest {
  since: number;
  streaming: boolean;
}

/**
 * Parses the `{serial}` or `{serial}-` of `/+changelog/…` against the store's head.
 * Throws NotFoundError (404) for anything else and for a serial beyond the next one (`head + 1`),
 * as devpi does.
 */
export function parseFeedSpec(spec: string, head: number): FeedRequest {
  const m = /^(\d+)(-?)$/.exec(spec);
  if (!m) throw new NotFoundError(`no such changelog entry '${spec}'`);
  const since = Number(m[1]);
  if (since > head + 1) throw new NotFoundError(`serial ${since} is beyond the next serial ${head + 1}`);
  return { since, streaming: m[2] === '-' };
}

/**
 * Checks the `Authorization: Bearer <token>` header of a feed or blob request: the token must be a
 * valid replica token (subject `+replica`, signed with the replica key derived from the shared
 * secret file, see `replicaTokenSigner`). Throws ForbiddenError (403) otherwise — the changelog
 * carries password hashes and private packages.
 */
export function authorizeReplica(authorization: string | undefined, replicaTokens: TokenSigner): void {
  const token = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
  if (!token || replicaTokens.verify(token, REPLICA_SUBJECT) === undefined) {
    throw new ForbiddenError('the changelog is only served to replicas with a valid replica token (same --secret-file as the master)');
  }
}

/**
 * One record as a frame (`GET /+changelog/{serial}`). When `serial` is the next one it waits up to
 * `pollMs` for the commit and resolves undefined when none came (the feed answers 202). Throws
 * NotFoundError when the record is not in the changelog.
 */
export async function feedRecord(changelog: Changelog, serial: number, pollMs: number = FEED_POLL_MS): Promise<Uint8Array | undefined> {
  if (serial > changelog.head && !(await changelog.waitForSerial(serial, pollMs))) return undefined;
  const rec = await changelog.getRecord(serial);
  if (!rec) throw new NotFoundError(`serial ${serial} is not in the changelog`);
  return encodeFrame(rec.bytes);
}

/** Timing and cancellation of `feedFrames`. */
export interface FeedFramesOptions {
  /** The stream ends after this long without records, ms (default 30,000). */
  pollMs?: number;
  /** A heartbeat frame after this long idle, ms (default 5,000). */
  heartbeatMs?: number;
  /** Aborted when the client went away: the stream ends at its next step. */
  signal?: AbortSignal;
}

/**
 * The frames of `GET /+changelog/{since}-`: every record from `since` on, then each new record the
 * moment it commits (`waitForSerial` resolves from the commit path; nothing polls), a heartbeat
 * after `heartbeatMs` idle, and the end after `pollMs` without records (the replica reconnects).
 * Rejects with StoreClosedError when the store closes under it.
 */
export async function* feedFrames(changelog: Changelog, since: number, opts: FeedFramesOptions = {}): AsyncGenerator<FeedFrame, void, undefined> {
  const pollMs = opts.pollMs ?? FEED_POLL_MS;
  const heartbeatMs = opts.heartbeatMs ?? FEED_HEARTBEAT_MS;
  const stopped = (): boolean => opts.signal?.aborted === true;
  let next = since;
  let idleSince = Date.now();
  while (!stopped()) {
    for await (const rec of changelog.changesSince(next)) {
      if (stopped()) return;
      yield { kind: 'record', serial: rec.serial, frame: encodeFrame(rec.bytes) };
      next = rec.serial + 1;
      idleSince = Date.now();
    }
    if (stopped()) return;
    const remaining = pollMs - (Date.now() - idleSince);
    if (remaining <= 0) return;
    const arrived = await changelog.waitForSerial(next, Math.min(remaining, heartbeatMs));
    if (!arrived && !stopped()) yield { kind: 'heartbeat', frame: HEARTBEAT_FRAME };
  }
}
