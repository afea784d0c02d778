/**
 * Test support for the master's HTTP-level tests: a real master on a temp data directory, tiny
 * in-memory wheels and upload forms (from @wheelhouse/testing), auth headers, and a raw keep-alive HTTP/1.1 connection for
 * methods `fetch` cannot send (`PUSH`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildWheel, legacyUploadBody, sha256Hex, storedZip } from '@wheelhouse/testing';
import type { Server } from 'node:http';
import { createMasterApp, type MasterApp } from './master-app.js';
import { initDatadir } from './init.js';

/** A running master and what a test needs to talk to it. */
export interface TestMaster {
  app: MasterApp;
  url: string;
  port: number;
  datadir: string;
  close(): Promise<void>;
}

/**
 * Inits a temp data directory (root password `rootpw`) and starts a master on a free port;
 * `tune` may change server timeouts before it listens.
 */
export async function startMaster(tune?: (server: Server) => void): Promise<TestMaster> {
  const datadir = await mkdtemp(join(tmpdir(), 'wh-master-test-'));
  await initDatadir({ datadir, rootPassword: 'rootpw' });
  const app = await createMasterApp({
    datadir,
    host: '127.0.0.1',
    port: 0,
    maxFileBytes: 10 * 1024 * 1024,
    syncCommits: false,
    logger: pino({ level: 'silent' }),
  });
  tune?.(app.server);
  const port = await app.listen();
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    port,
    datadir,
    close: async () => {
      await app.close();
      await rm(datadir, { recursive: true, force: true });
    },
  };
}

/** `X-Devpi-Auth` header value for user and password or token. */
export function devpiAuth(user: string, secret: string): Record<string, string> {
  return { 'X-Devpi-Auth': Buffer.from(`${user}:${secret}`).toString('base64') };
}

/** `Authorization: Basic` header for user and password or token. */
export function basicAuth(user: string, secret: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}` };
}

/** Creates a user with a password (via the API) and an index; returns the user's auth header. */
export async function userWithIndex(m: TestMaster, user: string, index: string, config: Record<string, unknown> = {}): Promise<Record<string, string>> {
  const put = await fetch(`${m.url}/${user}`, { method: 'PUT', body: JSON.stringify({ password: `${user}-pw` }) });
  if (put.status !== 201) throw new Error(`PUT /${user}: ${put.status} ${await put.text()}`);
  const auth = devpiAuth(user, `${user}-pw`);
  const ix = await fetch(`${m.url}/${user}/${index}`, { method: 'PUT', headers: auth, body: JSON.stringify(config) });
  if (ix.status !== 200) throw new Error(`PUT /${user}/${index}: ${ix.status} ${await ix.text()}`);
  return auth;
}

/** A zip archive of `entries` (stored, no compression): enough for a wheel. */
export function makeZip(entries: Record<string, string | Buffer>): Buffer {
  return storedZip(Object.entries(entries).map(([name, content]) => ({ name, data: Buffer.isBuffer(content) ? content : Buffer.from(content) })));
}

/** A minimal wheel of `name` `version` (Summary `test wheel{extra}`), its file name and its METADATA bytes. */
export function makeWheel(name: string, version: string, extra = ''): { filename: string; bytes: Buffer; metadata: Buffer } {
  const w = buildWheel(name, version, { summary: `test wheel${extra}`, requiresPython: null, generator: 'test' });
  return { filename: w.filename, bytes: w.content, metadata: w.metadata };
}

/** sha256 hex of bytes. */
export function sha256(bytes: Uint8Array): string {
  return sha256Hex(bytes);
}

/**
 * The legacy upload form twine sends (`:action`, `protocol_version`, name, version, `extra`, then
 * `content`), as a Blob typed `multipart/form-data; boundary=…`: fetch sends the Blob's type as
 * the Content-Type.
 */
export function uploadForm(name: string, version: string, filename: string, bytes: Buffer, extra: Record<string, string> = {}): Blob {
  const { contentType, body } = legacyUploadBody({ name, version, filename, content: bytes, minimal: true, extra });
  return new Blob([body], { type: contentType });
}

/** A parsed HTTP/1.1 response read off a raw connection. */
export interface RawResponse {
  status: number;
  reason: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** A raw HTTP/1.1 client connection that reads responses with Content-Length bodies one by one. */
export class RawConnection {
  private buf = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  closed = false;
  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawConnection(s)));
      s.once('error', reject);
    });
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (err) => (err ? reject(err) : resolve())));
  }

  /** Reads the next response (headers + Content-Length body); rejects after `timeoutMs` or on close. */
  async read(timeoutMs = 5000): Promise<RawResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = this.tryParse();
      if (parsed) return parsed;
      if (this.closed) throw new Error(`connection closed; unread: ${JSON.stringify(this.buf.toString('latin1'))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no complete response within ${timeoutMs} ms; got: ${JSON.stringify(this.buf.toString('latin1'))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  /** Resolves true when the server closes the connection within `timeoutMs`. */
  async waitClosed(timeoutMs = 2000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  private tryParse(): RawResponse | undefined {
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const head = this.buf.subarray(0, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.1 (\d{3}) ?(.*)$/.exec(head[0] ?? '');
    if (!m) throw new Error(`bad status line ${JSON.stringify(head[0])}`);
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    if (headers['transfer-encoding']) throw new Error('chunked responses are not supported by this test client');
    const len = Number(headers['content-length'] ?? 0);
    if (this.buf.length < end + 4 + len) return undefined;
    const body = this.buf.subarray(end + 4, end + 4 + len);
    this.buf = this.buf.subarray(end + 4 + len);
    return { status: Number(m[1]), reason: m[2] ?? '', headers, body: Buffer.from(body) };
  }

  close(): void {
    this.socket.destroy();
  }
}
