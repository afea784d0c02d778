/**
 * A recording stand-in for `ServerResponse` (tests only): what the code under test wrote —
 * status, headers, body, whether the connection was destroyed — without a socket. Setting a
 * header after the head went out throws ERR_HTTP_HEADERS_SENT, as node does.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What was written (see module doc). */
export class RecordingResponse {
  statusCode = 200;
  statusMessage = '';
  headersSent = false;
  destroyed = false;
  ended = false;
  readonly headers = new Map<string, string>();
  private readonly chunks: Buffer[] = [];

  setHeader(name: string, value: string | number): this {
    if (this.headersSent) throw Object.assign(new Error('Cannot set headers after they are sent to the client'), { code: 'ERR_HTTP_HEADERS_SENT' });
    this.headers.set(name.toLowerCase(), String(value));
    return this;
  }
  getHeader(name: string): string | undefined {
    return this.headers.get(name.toLowerCase());
  }
  removeHeader(name: string): void {
    this.headers.delete(name.toLowerCase());
  }
  writeHead(status: number, list: string[] = []): this {
    if (this.headersSent) throw Object.assign(new Error('Cannot write headers after they are sent to the client'), { code: 'ERR_HTTP_HEADERS_SENT' });
    this.statusCode = status;
    for (let i = 0; i + 1 < list.length; i += 2) this.headers.set(list[i]!.toLowerCase(), list[i + 1]!);
    this.headersSent = true;
    return this;
  }
  write(chunk: Buffer | string): boolean {
    this.headersSent = true;
    this.chunks.push(Buffer.from(chunk));
    return true;
  }
  end(chunk?: Buffer | string): this {
    if (chunk !== undefined) this.chunks.push(Buffer.from(chunk));
    this.headersSent = true;
    this.ended = true;
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
  once(): this {
    return this;
  }
  off(): this {
    return this;
  }
  get body(): string {
    return Buffer.concat(this.chunks).toString();
  }
  /** The body as bytes (an encoded body is not text). */
  get bodyBytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
  /** Typed as what the code under test takes. */
  get res(): ServerResponse {
    return this as unknown as ServerResponse;
  }
}

/** A request with `method`, `url` and headers (lower-case names), no socket. */
export function fakeRequest(method: string, headers: Record<string, string> = {}, url = '/'): IncomingMessage {
  return { method, url, headers } as unknown as IncomingMessage;
}
