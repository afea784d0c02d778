/**
 * Follows the leader key: an etcd watch for prompt news, and a read every `pollMs` besides (a watch
 * stream that reconnects may miss an event; the read never does). Calls `onChange` with the
 * current leader (undefined while there is none) each time it differs from the last one reported.
 * Used by replicas (to re-point their tailer and to notice the leader is gone) and the proxy (to
 * re-point its write target).
 */
import type { Namespace, Watcher } from 'etcd3';
import type { Logger } from 'pino';
import { KEYS, readLeadership, type LeaderRecord } from './etcd-layout.js';

/** What a leader watch reports. */
export interface LeaderView {
  /** The leader, undefined while the key is absent. */
  leader: LeaderRecord | undefined;
  /** The highest epoch granted (the epoch key). */
  epoch: number;
}

/** A leader watch (see module doc). */
export class LeaderWatch {
  private watcher: Watcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private last: string | undefined;
  private reading: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /** The last view read (undefined before the first read succeeded). */
  view: LeaderView | undefined;
  /** The last read error, cleared by a good read. */
  error: string | undefined;

  constructor(
    private readonly ns: Namespace,
    private readonly onChange: (view: LeaderView) => void,
    private readonly log: Logger,
    private readonly pollMs = 250,
  ) {}

  /** Starts watching and polling; the first read starts at once. */
  start(): void {
    this.timer = setInterval(() => this.refresh(), this.pollMs);
    this.timer.unref();
    this.refresh();
    void this.ns
      .watch()
      .key(KEYS.leader)
      .create()
      .then((w) => {
        if (this.stopped) return void w.cancel();
        this.watcher = w;
        w.on('put', () => this.refresh());
        w.on('delete', () => this.refresh());
        w.on('error', (err) => this.log.warn({ err: err.message }, 'etcd watch of the leader key failed; polling goes on'));
      })
      .catch((err: Error) => this.log.warn({ err: err.message }, 'etcd watch of the leader key not established; polling goes on'));
  }

  /** Reads the key now (coalesced with a read in flight). */
  refresh(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.read().finally(() => {
      this.reading = undefined;
      if (this.again) {
        this.again = false;
        this.refresh();
      }
    });
  }

  private async read(): Promise<void> {
    try {
      const view = await readLeadership(this.ns);
      this.error = undefined;
      this.view = view;
      const text = JSON.stringify(view);
      if (text !== this.last && !this.stopped) {
        this.last = text;
        this.onChange(view);
      }
    } catch (err) {
      this.error = (err as Error).message;
    }
  }

  /** Stops watching and polling. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.watcher?.cancel().catch(() => undefined);
    await this.reading;
  }
}
