/**
 * What the tailer and the file replicator need of "the master": the changelog stream from a serial
 * on (`GET /+changelog/{serial}-`) and the bytes of one blob (`GET /+blob/{sha256}`). `MasterClient`
 * implements it over HTTP with undici; unit tests implement it with a second in-memory changelog
 * (`fake-master.test-helpers.ts`), so the replica end of the protocol is tested without sockets.
 */

/** A response body: a byte stream that can also be read whole, drained, or dropped (undici's body). */
export interface MasterBody extends AsyncIterable<Uint8Array> {
  /** The whole body as UTF-8 text (error answers). */
  text(): Promise<string>;
  /** Reads and discards the body (undici: up to a limit, then closes), freeing the connection. */
  dump(): Promise<void>;
  /** Drops the stream at once; a pending read rejects. */
  destroy(): void;
  /** Errors after `destroy()` arrive here and must not go unhandled. */
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** The master's answer: status, headers (lower-case names) and body. */
export interface MasterResponse {
  statusCode: number;
  /** e.g. `x-devpi-uuid` (the master's store UUID), `x-devpi-serial` (its head), `content-length` (bytes) */
  headers: Record<string, string | string[] | undefined>;
  body: MasterBody;
}

/** The master as the replica end of the protocol sees it. Both reject on transport errors. */
export interface MasterSource {
  /**
   * The feed from `since` on (`GET /+changelog/{since}-`): 200 with frames, 202 idle, 403, 404,
   * 409 (diverged), 503 (fenced). Timeout in ms. `epoch`: the replica's epoch, sent as
   * `X-Wheelhouse-Epoch` (docs/operations.md, "Promotion and rejoin").
   */
  streamChangelog(since: number, timeoutMs: number, epoch?: number): Promise<MasterResponse>;
  /** One blob (`GET /+blob/{sha256}`): 200 with its bytes and `content-length`, 404 when the master has none. Timeout in ms. */
  fetchBlob(sha256: string, timeoutMs: number): Promise<MasterResponse>;
}
