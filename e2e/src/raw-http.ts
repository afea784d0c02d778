// HTTP/1.1 over a raw TCP socket, for what fetch cannot send: devpi-client's non-standard `PUSH`
// method (Node's HTTP parser rejects unknown methods before any handler runs) and a request body
// that stops before its Content-Length.
import { connect } from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly reason: string;
  /** Header names lower-cased; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export interface RawExchange {
  /** Everything the server sent before it closed the connection or the timeout hit. */
  readonly raw: Buffer;
  /** The parsed response, if a complete status line and header block arrived. */
  readonly response: RawResponse | undefined;
  /** True when the server closed the connection (rather than our timeout ending the wait). */
  readonly closedByServer: boolean;
}

export interface RawRequestOptions {
  readonly port: number;
  readonly host?: string;
  /** Bytes written to the socket, in order (head, then body pieces). */
  readonly chunks: readonly Uint8Array[];
  /** Half-close the socket (send FIN) after writing: the server sees the body end early. */
  readonly endAfterWrite?: boolean;
  readonly timeoutMs?: number;
}

/** Writes the bytes, then reads until the server closes, the response is complete, or the timeout. */
export function rawExchange(opts: RawRequestOptions): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port: opts.port, host: opts.host ?? '127.0.0.1', allowHalfOpen: true });
    const received: Buffer[] = [];
    let settled = false;
    const finish = (closedByServer: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(received);
      resolve({ raw, response: parseResponse(raw), closedByServer });
    };
    const timer = setTimeout(() => finish(false), opts.timeoutMs ?? 15_000);
    socket.on('connect', () => {
      for (const c of opts.chunks) socket.write(c);
      if (opts.endAfterWrite) socket.end();
    });
    socket.on('data', (d: Buffer) => {
      received.push(d);
      if (isComplete(Buffer.concat(received))) finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A reset after the server answered still counts as an answer.
      if (received.length > 0 || err.code === 'ECONNRESET' || err.code === 'EPIPE') finish(true);
      else if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(err);
      }
    });
  });
}

/** A complete HTTP/1.1 request head (CRLF line ends, blank line at the end). */
export function requestHead(requestLine: string, headers: Readonly<Record<string, string | number>>): Buffer {
  const lines = [requestLine, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

function splitHead(raw: Buffer): { head: string; body: Buffer } | undefined {
  const i = raw.indexOf('\r\n\r\n');
  if (i < 0) return undefined;
  return { head: raw.subarray(0, i).toString('latin1'), body: raw.subarray(i + 4) };
}

function parseHeaders(head: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const c = line.indexOf(':');
    if (c <= 0) continue;
    const k = line.slice(0, c).trim().toLowerCase();
    const v = line.slice(c + 1).trim();
    headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  }
  return headers;
}

function dechunk(body: Buffer): { data: Buffer; complete: boolean } {
  const out: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', pos);
    if (eol < 0) return { data: Buffer.concat(out), complete: false };
    const size = parseInt(body.subarray(pos, eol).toString('latin1').split(';')[0] ?? '', 16);
    if (Number.isNaN(size)) return { data: Buffer.concat(out), complete: false };
    if (size === 0) return { data: Buffer.concat(out), complete: true };
    const start = eol + 2;
    if (body.length < start + size + 2) return { data: Buffer.concat(out), complete: false };
    out.push(body.subarray(start, start + size));
    pos = start + size + 2;
  }
}

function isComplete(raw: Buffer): boolean {
  const parts = splitHead(raw);
  if (!parts) return false;
  const headers = parseHeaders(parts.head);
  if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) return dechunk(parts.body).complete;
  const len = headers['content-length'];
  if (len !== undefined) return parts.body.length >= Number(len);
  return false; // read until close
}

export function parseResponse(raw: Buffer): RawResponse | undefined {
  const parts = splitHead(raw);
  if (!parts) return undefined;
  const statusLine = parts.head.split('\r\n')[0] ?? '';
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
  if (!m) return undefined;
  const headers = parseHeaders(parts.head);
  let body = parts.body;
  if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) body = dechunk(body).data;
  else if (headers['content-length'] !== undefined) body = body.subarray(0, Number(headers['content-length']));
  return { status: Number(m[1]), reason: m[2] ?? '', headers, body };
}
