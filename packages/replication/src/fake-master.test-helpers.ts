/**
 * Test helper: the master end of the protocol without sockets. `FakeMaster` implements
 * `MasterSource` over a second (in-memory) changelog: its changelog stream is the real feed's
 * frames (`feedFrames`), its blobs a map from sha256 to bytes. Tests can change the UUID it
 * announces, replace the frames of a stream (gaps, corrupt frames), and read what was asked of it.
 */
import type { Changelog } from '@wheelhouse/changelog';
import { feedFrames } from './feed-frames.js';
import type { MasterBody, MasterResponse, MasterSource } from './master-source.js';

/** A response body over an async iterable of chunks; `destroy()` rejects a pending read at once, as undici's does. */
export class FakeBody implements MasterBody {
  private readonly gone = new AbortController();

  constructor(private readonly source: AsyncIterable<Uint8Array>) {}

  /** Aborted by `destroy()`. */
  get signal(): AbortSignal {
    return this.gone.signal;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    const it = this.source[Symbol.asyncIterator]();
    const destroyed = new Promise<never>((_, reject) => {
      this.gone.signal.addEventListener('abort', () => reject(new Error('body destroyed')), { once: true });
    });
    destroyed.catch(() => undefined);
    try {
      for (;;) {
        if (this.gone.signal.aborted) throw new Error('body destroyed');
        const step = await Promise.race([it.next(), destroyed]);
        if (step.done) return;
        yield step.value;
      }
    } finally {
      void it.return?.();
    }
  }

  async text(): Promise<string> {
    const parts: Uint8Array[] = [];
    for await (const chunk of this) parts.push(chunk);
    return Buffer.concat(parts).toString('utf8');
  }

  async dump(): Promise<void> {
    for await (const _ of this);
  }

  destroy(): void {
    this.gone.abort();
  }

  on(): this {
    return this;
  }
}

async function* chunksOf(list: Uint8Array[] | Promise<Uint8Array[]>): AsyncGenerator<Uint8Array> {
  for (const chunk of await list) yield chunk;
}

function jsonBody(message: string): FakeBody {
  return new FakeBody(chunksOf([Buffer.from(JSON.stringify({ message }))]));
}

/** Options of the fake master. */
export interface FakeMasterOptions {
  /** The feed's long poll, ms (default 300: streams end soon and the tailer reconnects). */
  pollMs?: number;
  /** The feed's heartbeat interval, ms (default 50). */
  heartbeatMs?: number;
  /** Replaces the chunks of a stream from `since` (each chunk as one read); the stream then ends. */
  frames?: (since: number) => Uint8Array[] | Promise<Uint8Array[]>;
}

/** The master end, over `changelog` (see module doc). */
export class FakeMaster implements MasterSource {
  /** The store UUID it announces (`X-Devpi-UUID`); change it to play a rebuilt master. */
  uuid: string;
  /** Blobs it serves, by sha256. */
  readonly blobs = new Map<string, Uint8Array>();
  /** `since` of every stream request, in order. */
  readonly streamRequests: number[] = [];
  /** The epoch sent with every stream request, in order. */
  readonly streamEpochs: Array<number | undefined> = [];
  /** The epoch it announces (`X-Wheelhouse-Epoch`); undefined: the header is not sent. */
  epoch: number | undefined;
  /** When set, every stream request gets this status and JSON message instead of the feed. */
  refuse: { status: number; message: string } | undefined;
  /** Every blob request: sha256 and ms since epoch. */
  readonly blobRequests: Array<{ sha256: string; at: number }> = [];
  private readonly open = new Set<FakeBody>();

  constructor(readonly changelog: Changelog, private readonly opts: FakeMasterOptions = {}) {
    this.uuid = changelog.uuid;
  }

  /** Plays a master restarted with another store: open streams drop, later answers announce `uuid`. */
  restart(uuid: string): void {
    this.uuid = uuid;
    for (const body of this.open) body.destroy();
    this.open.clear();
  }

  /** Stores `bytes` as the blob named `sha256` (which may be a wrong name, to serve corrupt content). */
  serveBlob(sha256: string, bytes: Uint8Array): void {
    this.blobs.set(sha256, bytes);
  }

  async streamChangelog(since: number, _timeoutMs?: number, epoch?: number): Promise<MasterResponse> {
    this.streamRequests.push(since);
    this.streamEpochs.push(epoch);
    const headers: Record<string, string> = { 'x-devpi-uuid': this.uuid, 'x-devpi-serial': String(this.changelog.head) };
    if (this.epoch !== undefined) headers['x-wheelhouse-epoch'] = String(this.epoch);
    if (this.refuse) return { statusCode: this.refuse.status, headers, body: jsonBody(this.refuse.message) };
    if (since > this.changelog.head + 1) return { statusCode: 404, headers, body: jsonBody(`serial ${since} is beyond the next serial`) };
    if (this.opts.frames) return { statusCode: 200, headers, body: new FakeBody(chunksOf(this.opts.frames(since))) };
    const changelog = this.changelog;
    const opts = { pollMs: this.opts.pollMs ?? 300, heartbeatMs: this.opts.heartbeatMs ?? 50 };
    let body: FakeBody | undefined = undefined;
    const frames = async function* (): AsyncGenerator<Uint8Array> {
      for await (const item of feedFrames(changelog, since, { ...opts, ...(body ? { signal: body.signal } : {}) })) yield item.frame;
    };
    body = new FakeBody(frames());
    this.open.add(body);
    return { statusCode: 200, headers, body };
  }

  async fetchBlob(sha256: string): Promise<MasterResponse> {
    this.blobRequests.push({ sha256, at: Date.now() });
    const bytes = this.blobs.get(sha256);
    const headers = { 'x-devpi-uuid': this.uuid, 'x-devpi-serial': String(this.changelog.head) };
    if (!bytes) return { statusCode: 404, headers, body: jsonBody(`file ${sha256} is not on the master`) };
    return { statusCode: 200, headers: { ...headers, 'content-length': String(bytes.length) }, body: new FakeBody(chunksOf([bytes])) };
  }
}
