/**
 * The HTTP/1.1 message heads the proxy's connection-level read path (`read-fast-path.ts`) reads and
 * writes itself, as pure functions over latin1 text (one byte per character, so any byte a client
 * sends survives the round trip unchanged). Deliberately narrow: a request qualifies only in the
 * plainest form RFC 9112 allows — `GET` or `HEAD`, an origin-form target, `HTTP/1.1`, one `Host`,
 * no body framing (`Content-Length`, `Transfer-Encoding`), no `Expect` or `Upgrade`, every line a
 * token name, a colon and a value without a bare CR or LF. Anything else is left to Node's own
 * parser (the caller hands the connection over), which answers or rejects it as it always did, so
 * the two parsers can never disagree on where a message ends (no request smuggling through the
 * proxy). Header rewriting matches `forward-headers.ts` (RFC 9110 §7.6): hop-by-hop headers
 * dropped, `X-Forwarded-For` appended to, `X-Forwarded-Proto/-Host`, `X-outside-url` and `Via`
 * added, a client's `X-Wheelhouse-Epoch` never passed on.
 */
import { HOP_BY_HOP } from './forward-headers.js';

/** RFC 9110 §5.6.2 `token`: what a header name may be made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** The request line the fast path takes: method, origin-form target (RFC 9112 §3.2.1), version. */
const REQUEST_LINE = /^(GET|HEAD) (\/[!-~]*) HTTP\/1\.1$/;
/** A backend's status line (RFC 9112 §4). */
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-5]\d\d)(?: [^\r\n]*)?$/;

/** What the proxy knows of a client connection and itself, for the headers it adds. */
export interface HeadContext {
  /** The client's address (`''` unknown). */
  remoteAddress: string;
  /** This proxy's `Via` token (`wheelhouse-proxy-<random>`). */
  viaToken: string;
  /** The configured outside URL, if any. */
  outsideUrl: string | undefined;
  /** `host:port` the proxy listens on (unused when the request has a `Host`, which it must). */
  listenAddress: string;
  /** The scheme the client used. */
  scheme: 'http' | 'https';
  /** The highest epoch any backend announced (0: none), sent as `X-Wheelhouse-Epoch`. */
  epoch: number;
}

/** A request the fast path forwards itself. */
export interface FastReadRequest {
  method: 'GET' | 'HEAD';
  /** The request target, path and query (`/root/pypi/+simple/pip/`). */
  target: string;
  /** The head to send to the backend, latin1, ending in the empty line. */
  backendHead: string;
  /** The client asked to close the connection after this answer (`Connection: close`). */
  close: boolean;
}

/**
 * The request for the backend from a client's request head (`head`: latin1 text up to, not
 * including, the empty line), or undefined when the request is not in the plain form the fast path
 * takes (see module doc) or already passed through this proxy (`Via` holds its token: Node's path
 * answers the loop 508). Pure.
 */
export function fastReadRequest(head: string, ctx: HeadContext): FastReadRequest | undefined {
  const lines = head.split('\r\n');
  const m = REQUEST_LINE.exec(lines[0]!);
  if (!m) return undefined;
  let kept = `${lines[0]}\r\n`;
  let host: string | undefined;
  let xff: string | undefined;
  let via: string | undefined;
  let hasProto = false;
  let hasForwardedHost = false;
  let hasOutside = false;
  let close = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0 || line.includes('\r') || line.includes('\n')) return undefined;
    const rawName = line.slice(0, colon);
    if (!TOKEN.test(rawName)) return undefined;
    const name = rawName.toLowerCase();
    const value = line.slice(colon + 1).trim();
    switch (name) {
      case 'content-length':
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
        return undefined;
      case 'host':
        if (host !== undefined) return undefined;
        host = value;
        break;
      case 'connection':
        if (/(?:^|[\s,])close(?:$|[\s,])/i.test(value)) close = true;
        continue;
      case 'x-forwarded-for':
        xff = xff === undefined ? value : `${xff}, ${value}`;
        continue;
      case 'via':
        via = via === undefined ? value : `${via}, ${value}`;
        continue;
      case 'x-wheelhouse-epoch':
        continue;
      case 'x-forwarded-proto':
        hasProto = true;
        break;
      case 'x-forwarded-host':
        hasForwardedHost = true;
        break;
      case 'x-outside-url':
        hasOutside = true;
        break;
      default:
        if (HOP_BY_HOP.has(name)) continue;
    }
    kept += `${line}\r\n`;
  }
  if (host === undefined || via?.includes(ctx.viaToken)) return undefined;
  kept += `x-forwarded-for: ${xff ? `${xff}, ${ctx.remoteAddress}` : ctx.remoteAddress}\r\n`;
  if (!hasProto) kept += `x-forwarded-proto: ${ctx.scheme}\r\n`;
  if (!hasForwardedHost) kept += `x-forwarded-host: ${host}\r\n`;
  if (!hasOutside) kept += `x-outside-url: ${ctx.outsideUrl ?? `${ctx.scheme}://${host || ctx.listenAddress}`}\r\n`;
  kept += `via: ${via ? `${via}, ` : ''}1.1 ${ctx.viaToken}\r\n`;
  if (ctx.epoch > 0) kept += `x-wheelhouse-epoch: ${ctx.epoch}\r\n`;
  return { method: m[1] as 'GET' | 'HEAD', target: m[2]!, backendHead: `${kept}\r\n`, close };
}

/**
 * How the body of a backend's answer is delimited (RFC 9112 §6.3): none (HEAD, 204, 304), a
 * `Content-Length`, chunked, or until the backend closes the connection.
 */
export type BodyFraming = { kind: 'none' } | { kind: 'length'; bytes: number } | { kind: 'chunked' } | { kind: 'close' };

/** A backend's answer head, as the fast path uses it. */
export interface AnswerHead {
  status: number;
  framing: BodyFraming;
  /** The backend keeps the connection open after this answer. */
  keepAlive: boolean;
  /** `X-Devpi-Serial` (NaN when absent), `X-Devpi-Master-UUID` (`''`), `X-Wheelhouse-Epoch`, `X-Wheelhouse-Role`. */
  serial: number;
  masterUuid: string;
  epoch: string | undefined;
  role: string | undefined;
  /**
   * The head for the client, latin1, ending in the empty line: the backend's status line and
   * headers without `Connection` and `Keep-Alive` (the client's connection is the proxy's), plus
   * `Connection: close` when the client's connection ends after it. `Transfer-Encoding: chunked`
   * stays: the body is relayed in the framing it came in.
   */
  clientHead: string;
}

/**
 * Parses a backend's answer head (`head`: latin1 up to, not including, the empty line) to a
 * `method` request; `closeClient`: the client's connection ends after this answer anyway.
 * Undefined for what a Wheelhouse node never sends to a read (a 1xx, conflicting lengths, an
 * unparsable line): the caller treats it as a failed exchange. Pure.
 */
export function parseAnswerHead(head: string, method: 'GET' | 'HEAD', closeClient: boolean): AnswerHead | undefined {
  const lines = head.split('\r\n');
  const m = STATUS_LINE.exec(lines[0]!);
  if (!m) return undefined;
  const status = Number(m[2]);
  if (status < 200) return undefined;
  let keepAlive = m[1] === '1';
  let length: number | undefined;
  let chunked: boolean | undefined;
  let serial = NaN;
  let masterUuid = '';
  let epoch: string | undefined;
  let role: string | undefined;
  let out = `${lines[0]}\r\n`;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    switch (name) {
      case 'connection':
        if (/(?:^|[\s,])close(?:$|[\s,])/i.test(value)) keepAlive = false;
        else if (/keep-alive/i.test(value)) keepAlive = true;
        continue;
      case 'keep-alive':
        continue;
      case 'content-length': {
        if (!/^\d{1,15}$/.test(value)) return undefined;
        const n = Number(value);
        if (length !== undefined && length !== n) return undefined;
        length = n;
        break;
      }
      case 'transfer-encoding':
        chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
        break;
      case 'x-devpi-serial':
        serial = Number(value);
        break;
      case 'x-devpi-master-uuid':
        masterUuid = value;
        break;
      case 'x-wheelhouse-epoch':
        epoch = value;
        break;
      case 'x-wheelhouse-role':
        role = value;
        break;
    }
    out += `${line}\r\n`;
  }
  let framing: BodyFraming;
  if (method === 'HEAD' || status === 204 || status === 304) framing = { kind: 'none' };
  else if (chunked !== undefined) framing = chunked ? { kind: 'chunked' } : { kind: 'close' };
  else if (length !== undefined) framing = length === 0 ? { kind: 'none' } : { kind: 'length', bytes: length };
  else framing = { kind: 'close' };
  if (framing.kind === 'close') keepAlive = false;
  if (closeClient || framing.kind === 'close') out += 'connection: close\r\n';
  return { status, framing, keepAlive, serial, masterUuid, epoch, role, clientHead: `${out}\r\n` };
}

/**
 * Finds where a chunked body ends (RFC 9112 §7.1): fed the body's bytes as they come, it skips chunk
 * data and reads only sizes, extensions and trailers. One per answer.
 */
export class ChunkedBodyEnd {
  /** Bytes of chunk data still to skip. */
  private skip = 0;
  private state: 'size' | 'ext' | 'size-lf' | 'data-cr' | 'data-lf' | 'trailer' | 'trailer-line' | 'trailer-lf' | 'done' = 'size';
  private size = 0;
  private sizeDigits = 0;

  /**
   * Takes `chunk[from..]`; returns the offset just past the body's end when it ends in this chunk,
   * -1 when more is needed. Throws `Error` on a malformed size line (the exchange is cut).
   */
  feed(chunk: Buffer, from = 0): number {
    let i = from;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const c = chunk[i++]!;
      switch (this.state) {
        case 'size': {
          const d = hexDigit(c);
          if (d >= 0) {
            if (++this.sizeDigits > 12) throw new Error('chunk size too long');
            this.size = this.size * 16 + d;
          } else if (this.sizeDigits === 0) throw new Error('chunk size missing');
          else if (c === 0x0d) this.state = 'size-lf';
          else this.state = 'ext';
          break;
        }
        case 'ext':
          if (c === 0x0d) this.state = 'size-lf';
          break;
        case 'size-lf':
          if (c !== 0x0a) throw new Error('bad chunk size line');
          if (this.size === 0) this.state = 'trailer';
          else {
            this.skip = this.size;
            this.state = 'data-cr';
          }
          break;
        case 'data-cr':
          if (c !== 0x0d) throw new Error('chunk data not followed by CRLF');
          this.state = 'data-lf';
          break;
        case 'data-lf':
          if (c !== 0x0a) throw new Error('chunk data not followed by CRLF');
          this.size = 0;
          this.sizeDigits = 0;
          this.state = 'size';
          break;
        case 'trailer':
          if (c === 0x0d) this.state = 'trailer-lf';
          else this.state = 'trailer-line';
          break;
        case 'trailer-line':
          if (c === 0x0a) this.state = 'trailer';
          break;
        case 'trailer-lf':
          if (c !== 0x0a) throw new Error('bad end of chunked body');
          this.state = 'done';
          return i;
        case 'done':
          throw new Error('bytes after the end of a chunked body');
      }
    }
    return -1;
  }
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}
