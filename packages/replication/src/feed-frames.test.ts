import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Changelog, decodeRecord } from '@wheelhouse/changelog';
import { statusOf } from '@wheelhouse/http';
import { ForbiddenError, NotFoundError, REPLICA_SUBJECT, REPLICA_TOKEN_SECONDS, TokenSigner, replicaTokenSigner } from '@wheelhouse/core';
import { authorizeReplica, feedFrames, feedRecord, parseFeedSpec, type FeedFrame } from './feed-frames.js';
import { FrameDecoder } from './frames.js';
import { writeHistory } from './test-support.test-helpers.js';

/** The serial of each frame (null for a heartbeat), read back through the replica's decoder. */
function serialsOf(frames: FeedFrame[]): Array<number | null> {
  const decoder = new FrameDecoder();
  return frames.map((f) => {
    const [payload] = decoder.push(f.frame);
    assert.ok(payload, 'one complete frame per item');
    return payload.length === 0 ? null : decodeRecord(payload).serial;
  });
}

describe('changelog feed frames', () => {
  let master: Changelog;
  beforeEach(async () => {
    master = await Changelog.openInMemory();
    await writeHistory(master, 5);
  });
  afterEach(() => master.close());

  it('emits every record from serial S on, heartbeats while idle, new commits at once, and ends when the client goes', async () => {
    const gone = new AbortController();
    const got: FeedFrame[] = [];
    for await (const item of feedFrames(master, 2, { pollMs: 5_000, heartbeatMs: 20, signal: gone.signal })) {
      got.push(item);
      if (got.length === 4) void master.write((tx) => tx.set('test/live', { live: true }));
      if (item.kind === 'record' && item.serial === 5) gone.abort();
    }
    const serials = serialsOf(got);
    assert.deepEqual(serials.slice(0, 4), [2, 3, 4, null]);
    assert.equal(serials.at(-1), 5, 'the commit made while streaming, then the end on abort');
    assert.ok(serials.slice(3, -1).every((s) => s === null));
  });

  it('ends by itself after the poll time without records (the replica reconnects)', async () => {
    const started = Date.now();
    const got: FeedFrame[] = [];
    for await (const item of feedFrames(master, 5, { pollMs: 120, heartbeatMs: 30 })) got.push(item);
    assert.ok(Date.now() - started >= 110);
    assert.ok(got.length >= 2 && got.every((f) => f.kind === 'heartbeat'), `only heartbeats, got ${got.length}`);
  });

  it('parses {serial}- and {serial}; 404 beyond the next serial and for anything else', () => {
    assert.deepEqual(parseFeedSpec('0-', master.head), { since: 0, streaming: true });
    assert.deepEqual(parseFeedSpec('5', master.head), { since: 5, streaming: false });
    assert.deepEqual(parseFeedSpec(`${master.head + 1}-`, master.head), { since: master.head + 1, streaming: true });
    for (const spec of [`${master.head + 2}-`, `${master.head + 2}`, 'abc', '-1', '1--', '']) {
      assert.throws(() => parseFeedSpec(spec, master.head), (err: unknown) => err instanceof NotFoundError && statusOf(err) === 404, spec);
    }
  });

  it('one record: the frame of that serial; a long poll on the next serial answers nothing (202) or the commit', async () => {
    const frame = await feedRecord(master, 3, 50);
    assert.deepEqual(serialsOf([{ kind: 'heartbeat', frame: frame! }]), [3]);
    assert.equal(await feedRecord(master, master.head + 1, 50), undefined);
    const waiting = feedRecord(master, master.head + 1, 5_000);
    await master.write((tx) => tx.set('test/polled', { x: 1 }));
    assert.deepEqual(serialsOf([{ kind: 'heartbeat', frame: (await waiting)! }]), [master.head]);
  });
});

describe('replica tokens', () => {
  const secret = new Uint8Array(32).fill(7);
  const tokens = replicaTokenSigner(secret);
  const forbidden = (err: unknown): boolean => err instanceof ForbiddenError && statusOf(err) === 403;

  it('accepts a fresh replica token signed with the shared secret', () => {
    authorizeReplica(`Bearer ${tokens.issue(REPLICA_SUBJECT, REPLICA_TOKEN_SECONDS)}`, tokens);
  });

  it('refuses (403) no token, another secret, a login token and a user subject', () => {
    const otherSecret = replicaTokenSigner(new Uint8Array(32).fill(8));
    const login = new TokenSigner(secret);
    for (const header of [
      undefined,
      '',
      'Basic YWxpY2U6c2VjcmV0',
      `Bearer ${otherSecret.issue(REPLICA_SUBJECT, REPLICA_TOKEN_SECONDS)}`,
      `Bearer ${login.issue(REPLICA_SUBJECT, REPLICA_TOKEN_SECONDS)}`,
      `Bearer ${tokens.issue('alice', REPLICA_TOKEN_SECONDS)}`,
    ]) {
      assert.throws(() => authorizeReplica(header, tokens), forbidden, String(header));
    }
  });
});
