/**
 * The changelog tailer: keeps one long-poll stream open to the master's `/+changelog/{head+1}-`,
 * applies the records through `Changelog.applyMany` (record N only at N-1, so the replica's state is
 * the master's at every serial; the file replicator hears each record from the commit path). Nothing
 * polls on a timer: records arrive the moment they commit. Connection problems back off (up to
 * 1.6 s, below the master's --sync-timeout) and retry for ever; a master with another store UUID than the one first met is a different
 * history, and stops replication with a fatal state while reads go on from the old state.
 */
import type { Changelog } from '@wheelhouse/changelog';
import type { Logger } from 'pino';
import { FrameDecoder } from './frames.js';
import { masterVerdict, parseEpoch, trackEpoch, type EpochTracker } from './epochs.js';
import type { MasterSource } from './master-source.js';

/** What the tailer reports (for `/+status`, readiness and metrics). */
export interface TailState {
  /** The master's UUID recorded on first contact. */
  masterUuid: string;
  /** Highest serial the master said it has. */
  masterSerial: number;
  /** ms since epoch of the last response from the master. */
  lastContact: number;
  /** ms since epoch when the replica was last seen caught up (0 = never). */
  inSyncAt: number;
  /** true once the replica has caught up with the master at least once. */
  initialSyncDone: boolean;
  /** Last connection or protocol error (cleared on success). */
  error?: string;
  /** Set when replication stopped for good (e.g. another master UUID). */
  fatal?: string;
  /** Set (to the new master's UUID) when this tailer stopped because the master changed and the replica follows it. */
  superseded?: string;
  /** Records applied since start. */
  applied: number;
  /** The epoch the master announced last (`X-Wheelhouse-Epoch`; 0 before contact). */
  masterEpoch?: number;
}

/** Options of the tailer. */
export interface TailerOptions {
  changelog: Changelog;
  /** The master (`MasterClient`, or a fake in tests). */
  master: MasterSource;
  log: Logger;
  /** The master's long-poll time plus slack, ms. */
  pollMs?: number;
  /**
   * Follow a master with a new UUID: instead of the fatal state, the tailer stops and reports the
   * new UUID here (the replica then builds the new state beside the old one).
   */
  onMasterChange?: (uuid: string) => void;
  /**
   * The encoded records of a batch, before they are applied (e.g. to start fetching their files
   * while the batch is fsynced). A throw is logged and ignored.
   */
  beforeApply?: (payloads: readonly Uint8Array[]) => void;
  /** Each time a stream from the master opened (200): e.g. to confirm the applied serial again. */
  onConnected?: () => void;
}

const MASTER_UUID_META = 'master-uuid';

/** Tails the master's changelog (see module doc). */
export class Tailer {
  readonly state: TailState;
  private stopped = false;
  private running: Promise<void> | undefined;
  private abort: (() => void) | undefined;
  private wake: (() => void) | undefined;
  private readonly epochs: EpochTracker;

  constructor(private readonly opts: TailerOptions) {
    this.epochs = trackEpoch(opts.changelog);
    this.state = {
      masterUuid: opts.changelog.getMeta(MASTER_UUID_META) ?? '',
      masterSerial: -1,
      lastContact: 0,
      inSyncAt: 0,
      initialSyncDone: false,
      applied: 0,
    };
  }

  /** Starts the loop (idempotent). */
  start(): void {
    this.running ??= this.loop();
  }

  /** Stops the loop and waits for it. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.();
    await this.running;
    this.epochs.stop();
  }

  /**
   * Drops the open stream (if any): the loop connects again at once (after its 100 ms back-off),
   * e.g. to a master the client was re-pointed to. The applied records stay.
   */
  reconnect(): void {
    this.abort?.();
    // and cuts a retry wait short (automatic failover re-pointed the client at a new master)
    this.wake?.();
  }

  /** The epoch of the replica's changelog (what it sends the master). */
  epoch(): number {
    return this.epochs.epoch();
  }

  private async loop(): Promise<void> {
    let backoff = 100;
    while (!this.stopped && !this.state.fatal && !this.state.superseded) {
      try {
        await this.pollOnce();
        backoff = 100;
      } catch (err) {
        if (this.stopped) break;
        const message = (err as Error).message;
        if (this.state.error !== message) this.opts.log.warn({ err: message }, 'replication: master request failed, retrying');
        this.state.error = message;
        const interrupted = await new Promise<boolean>((r) => {
          const t = setTimeout(() => r(false), backoff);
          this.wake = () => {
            clearTimeout(t);
            r(true);
          };
        });
        this.wake = undefined;
        // capped well below the master's --sync-timeout (5 s): a restarted master gets its replicas back while its first writes wait
        backoff = interrupted ? 100 : Math.min(backoff * 2, 1_600);
      }
    }
  }

  private checkIdentity(uuid: string | undefined, masterEpoch: number | undefined): void {
    if (!uuid) throw new Error('the master sent no X-Devpi-UUID header');
    const own = this.epochs.epoch();
    if (masterVerdict(own, masterEpoch) === 'refuse') {
      throw new Error(`the master at epoch ${masterEpoch ?? 1} is older than this replica's epoch ${own}: it is a superseded master; its records are refused`);
    }
    if (this.state.masterUuid && uuid !== this.state.masterUuid && masterEpoch !== undefined && masterEpoch > own) {
      // a promotion: the new term's master has its own store UUID and the same history up to the term's start
      this.opts.log.warn({ old: this.state.masterUuid, new: uuid, epoch: masterEpoch }, 'replication: following the promoted master of a newer epoch');
      this.state.masterUuid = uuid;
      void this.opts.changelog.setMeta(MASTER_UUID_META, uuid);
      return;
    }
    if (!this.state.masterUuid) {
      this.state.masterUuid = uuid;
      void this.opts.changelog.setMeta(MASTER_UUID_META, uuid);
      this.opts.log.info({ masterUuid: uuid }, 'replication: recorded the master UUID');
    } else if (uuid !== this.state.masterUuid && this.opts.onMasterChange) {
      this.state.superseded = uuid;
      this.opts.log.warn({ old: this.state.masterUuid, new: uuid }, 'replication: the master has a new store UUID; following it (building the new state beside the old one)');
      this.opts.onMasterChange(uuid);
      throw new Error(`the master's store UUID changed to ${uuid}; following it`);
    } else if (uuid !== this.state.masterUuid) {
      this.state.fatal = `the master's store UUID changed from ${this.state.masterUuid} to ${uuid}: it holds a different history (e.g. restored by import); replication stopped, reads are served from serial ${this.opts.changelog.head}`;
      this.opts.log.fatal({ expected: this.state.masterUuid, got: uuid }, 'replication: master UUID changed; replication stopped');
      throw new Error(this.state.fatal);
    }
  }

  private noteMasterSerial(serial: number): void {
    if (Number.isSafeInteger(serial)) this.state.masterSerial = Math.max(this.state.masterSerial, serial);
    this.noteSync();
  }

  private noteSync(): void {
    if (this.opts.changelog.head >= this.state.masterSerial) {
      this.state.inSyncAt = Date.now();
      this.state.initialSyncDone = true;
    }
  }

  private async pollOnce(): Promise<void> {
    const { changelog, master } = this.opts;
    const since = changelog.head + 1;
    const res = await master.streamChangelog(since, (this.opts.pollMs ?? 30_000) + 15_000, this.epochs.epoch());
    // destroying the body (on stop, or a refused master) must never raise an unhandled 'error'
    res.body.on('error', () => undefined);
    this.abort = () => res.body.destroy();
    this.state.lastContact = Date.now();
    const header = (name: string): string | undefined => {
      const v = res.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const masterEpoch = parseEpoch(header('x-wheelhouse-epoch'));
    if (masterEpoch !== undefined) this.state.masterEpoch = masterEpoch;
    if (res.statusCode === 409) {
      const text = await res.body.text().catch(() => '');
      this.state.fatal = `the master refused this replica as diverged: ${messageOf(text)}`;
      this.opts.log.fatal({ reason: this.state.fatal }, 'replication: diverged from the master; replication stopped (rejoin needed)');
      throw new Error(this.state.fatal);
    }
    if (res.statusCode === 503) {
      const text = await res.body.text().catch(() => '');
      throw new Error(`master answered 503 for /+changelog/${since}-: ${messageOf(text)}`);
    }
    try {
      this.checkIdentity(header('x-devpi-uuid'), masterEpoch);
    } catch (err) {
      res.body.destroy();
      throw err;
    }
    this.noteMasterSerial(Number(header('x-devpi-serial')));
    if (res.statusCode === 202) {
      await res.body.dump();
      delete this.state.error;
      return;
    }
    if (res.statusCode !== 200) {
      const text = await res.body.text().catch(() => '');
      throw new Error(`master answered ${res.statusCode} for /+changelog/${since}-: ${text.slice(0, 200)}`);
    }
    delete this.state.error;
    this.opts.onConnected?.();
    const decoder = new FrameDecoder();
    for await (const chunk of res.body) {
      this.state.lastContact = Date.now();
      // every complete record of a chunk goes into one batch (catch-up speed); heartbeats are empty
      const payloads = decoder.push(chunk as Uint8Array).filter((p) => p.length > 0);
      if (payloads.length === 0) {
        this.noteSync(); // heartbeat: the master has nothing newer
        continue;
      }
      try {
        this.opts.beforeApply?.(payloads);
      } catch (err) {
        this.opts.log.warn({ err: (err as Error).message }, 'replication: the before-apply hook failed');
      }
      // listeners (file replication, confirmations) hear each record from the commit path
      const applied = await changelog.applyMany(payloads);
      this.state.applied += applied;
      this.noteMasterSerial(changelog.head);
      if (this.stopped) break;
    }
    if (decoder.pending > 0) throw new Error(`the changelog stream ended inside a frame (${decoder.pending} bytes pending)`);
  }
}

/** The JSON `message` of an error body, else the text itself (at most 300 characters). */
function messageOf(text: string): string {
  try {
    const m = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof m === 'string') return m.slice(0, 300);
  } catch {
    // not JSON
  }
  return text.slice(0, 300);
}
