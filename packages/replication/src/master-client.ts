/**
 * How a replica talks to its master: one undici agent, a fresh short-lived replica token on every
 * request (`Authorization: Bearer`, signed with the shared secret's replica key), and the replica's
 * identity headers so the master can list it. It is the `MasterSource` of the tailer and the file
 * replicator; write forwarding and mirror access use `get` and `agent` directly.
 */
import type { SecureContext } from 'node:tls';
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
  /** TLS client context for an https master (http's `trustedCaContext`; default Node's bundled roots). */
  secureContext?: SecureContext;
  /** The replica's epoch, sent as `X-Wheelhouse-Epoch` on every request (absent: not sent). */
  epoch?: () => number;
}

/** Sends requests to the master (see module doc). */
export class MasterClient implements MasterSource {
  readonly agent: Agent;
  constructor(readonly opts: MasterClientOptions) {
    this.agent = new Agent({ keepAliveTimeout: 60_000, connections: 32, ...(opts.secureContext ? { connect: { secureContext: opts.secureContext } } : {}) });
  }

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

  /**
   * `POST /+changelog-ack/{serial}`: confirms every record up to `serial` durable with its files
   * (`durable-acks.ts`). Rejects on a transport error or an answer other than 204.
   */
  async ackSerial(serial: number, timeoutMs: number): Promise<void> {
    const res = await request(`${this.opts.masterUrl}/+changelog-ack/${serial}`, {
      method: 'POST',
      dispatcher: this.agent,
      headers: this.replicaHeaders(),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await res.body.text().catch(() => '');
    if (res.statusCode !== 204) throw new Error(`master answered ${res.statusCode} for /+changelog-ack/${serial}: ${text.slice(0, 200)}`);
  }

  /** Closes the agent's connections. */
  async close(): Promise<void> {
    await this.agent.close();
  }
}
