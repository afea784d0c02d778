/**
 * How a replica talks to its master: one undici agent, a fresh short-lived replica token on every
 * request (`Authorization: Bearer`, signed with the shared secret's replica key), and the replica's
 * identity headers so the master can list it. It is the `MasterSource` of the tailer and the file
 * replicator; write forwarding and mirror access use `get` and `agent` directly.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { REPLICA_SUBJECT, REPLICA_TOKEN_SECONDS, type TokenSigner } from '@wheelhouse/core';
import type { MasterSource } from './master-source.js';

/** Identity and credentials of the replica towards its master. */
export interface MasterClientOptions {
  /** The master's base URL, without trailing slash (changed by `repoint`). */
  masterUrl: string;
  replicaTokens: TokenSigner;
  /** This replica's id (persistent). */
  replicaId: string;
  /** This replica's outside URL (shown in the master's status). */
  replicaUrl: string;
  /** The replica's epoch, sent as `X-Wheelhouse-Epoch` on every request (absent: not sent). */
  epoch?: () => number;
}

/** Sends requests to the master (see module doc). */
export class MasterClient implements MasterSource {
  readonly agent = new Agent({ keepAliveTimeout: 60_000, connections: 32 });
  constructor(readonly opts: MasterClientOptions) {}

  /**
   * Sends every later request to the master at `url` (a promoted master: automatic failover or an
   * operator). The tailer's open stream is not touched: `Tailer.reconnect()` drops it.
   */
  repoint(url: string): void {
    this.opts.masterUrl = url.replace(/\/+$/, '');
  }

  /** Headers that identify and authorise this replica. */
  replicaHeaders(epoch = this.opts.epoch?.()): Record<string, string> {
    return {
      authorization: `Bearer ${this.opts.replicaTokens.issue(REPLICA_SUBJECT, REPLICA_TOKEN_SECONDS)}`,
      'x-wheelhouse-replica-id': this.opts.replicaId,
      'x-wheelhouse-replica-url': this.opts.replicaUrl,
      ...(epoch !== undefined ? { 'x-wheelhouse-epoch': String(epoch) } : {}),
    };
  }

  /** A replica-authorised GET of `path` (e.g. `/+changelog/5-`). Timeouts in ms. */
  get(path: string, timeoutMs: number, epoch?: number): Promise<Dispatcher.ResponseData> {
    return request(this.opts.masterUrl + path, {
      dispatcher: this.agent,
      headers: this.replicaHeaders(epoch),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  }

  /** `GET /+changelog/{since}-` (see `MasterSource`). */
  streamChangelog(since: number, timeoutMs: number, epoch?: number): Promise<Dispatcher.ResponseData> {
    return this.get(`/+changelog/${since}-`, timeoutMs, epoch);
  }

  /** `GET /+blob/{sha256}` (see `MasterSource`). */
  fetchBlob(sha256: string, timeoutMs: number): Promise<Dispatcher.ResponseData> {
    return this.get(`/+blob/${sha256}`, timeoutMs);
  }

  /** Closes the agent's connections. */
  async close(): Promise<void> {
    await this.agent.close();
  }
}
