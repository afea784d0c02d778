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
  /** The client asked to close the connection after this answer (`Connection: close`). */
  close: boolean;
  /** The `Host` header's value. */
  host: string;
  /**
   * The request line and header lines (each ending in CRLF) to send instead of the client's own,
   * when some had to be dropped or merged (hop-by-hop ones, `Via`, `X-Forwarded-For`, a client's
   * `X-Wheelhouse-Epoch`); undefined when the client's lines go to the backend as they came —
   * the common case, sent without re-encoding.
   */
  rewritten: string | undefined;
  /** What the added headers merge with or leave alone (undefined / false: the client sent none). */
  forwardedFor: string | undefined;
  via: string | undefined;
  hasProto: boolean;
  hasForwardedHost: boolean;
  hasOutside: boolean;
}

/**
 * Reads a client's request head (`head`: latin1 text up to, not including, the empty line) for the
 * fast path: undefined when the request is not in the plain form it takes (see module doc) or
 * already passed through this proxy (`Via` holds `viaToken`: Node's path answers the loop 508).
 * Pure.
 */
export function fastReadRequest(head: string, viaToken: string): FastReadRequest | undefined {
  const firstEnd = head.indexOf('\r\n');
  const m = REQUEST_LINE.exec(firstEnd < 0 ? head : head.slice(0, firstEnd));
  if (!m) return undefined;
  const req: FastReadRequest = { method: m[1] as 'GET' | 'HEAD', target: m[2]!, close: false, host: '', rewritten: undefined, forwardedFor: undefined, via: undefined, hasProto: false, hasForwardedHost: false, hasOutside: false };
  let hasHost = false;
  let drop = false;
  let kept = firstEnd < 0 ? `${head}\r\n` : head.slice(0, firstEnd + 2);
  for (let at = firstEnd; at >= 0; ) {
    const from = at + 2;
    const next = head.indexOf('\r\n', from);
    const line = next < 0 ? head.slice(from) : head.slice(from, next);
    at = next;
    const colon = line.indexOf(':');
    if (colon <= 0 || line.includes('\r') || line.includes('\n')) return undefined;
    const rawName = line.slice(0, colon);
    if (!TOKEN.test(rawName)) return undefined;
    const name = rawName.toLowerCase();
    let keep = true;
    switch (name) {
      case 'content-length':
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
        return undefined;
      case 'host':
        if (hasHost) return undefined;
        hasHost = true;
        req.host = line.slice(colon + 1).trim();
        break;
      case 'connection': {
        const value = line.slice(colon + 1).trim();
        if (/(?:^|[\s,])close(?:$|[\s,])/i.test(value)) req.close = true;
        // "keep-alive" says of the proxy's connection to the node what is true anyway: it stays
        keep = /^keep-alive$/i.test(value);
        break;
      }
      case 'x-forwarded-for': {
        const value = line.slice(colon + 1).trim();
        req.forwardedFor = req.forwardedFor === undefined ? value : `${req.forwardedFor}, ${value}`;
        keep = false;
        break;
      }
      case 'via': {
        const value = line.slice(colon + 1).trim();
        req.via = req.via === undefined ? value : `${req.via}, ${value}`;
        keep = false;
        break;
      }
      case 'x-wheelhouse-epoch':
        keep = false;
        break;
      case 'x-forwarded-proto':
        req.hasProto = true;
        break;
      case 'x-forwarded-host':
        req.hasForwardedHost = true;
        break;
      case 'x-outside-url':
        req.hasOutside = true;
        break;
      default:
        if (HOP_BY_HOP.has(name)) keep = false;
    }
    if (keep) kept += `${line}\r\n`;
    else drop = true;
  }
  if (!hasHost || req.via?.includes(viaToken)) return undefined;
  if (drop) req.rewritten = kept;
  return req;
}

/** Whether the headers {@link addedLines} makes depend only on the `Host` and the context (so a connection may reuse them). */
export function addedLinesAreStock(req: FastReadRequest): boolean {
  return req.forwardedFor === undefined && req.via === undefined && !req.hasProto && !req.hasForwardedHost && !req.hasOutside;
}

/**
 * The header lines the proxy adds to a request for the backend, ending in the empty line:
 * `X-Forwarded-For` (the client's address appended), `X-Forwarded-Proto`, `X-Forwarded-Host` and
 * `X-outside-url` unless the client sent them, `Via` with this proxy appended, and the highest
 * epoch seen. Pure.
 */
export function addedLines(req: FastReadRequest, ctx: HeadContext): string {
  let out = `x-forwarded-for: ${req.forwardedFor ? `${req.forwardedFor}, ${ctx.remoteAddress}` : ctx.remoteAddress}\r\n`;
  if (!req.hasProto) out += `x-forwarded-proto: ${ctx.scheme}\r\n`;
  if (!req.hasForwardedHost) out += `x-forwarded-host: ${req.host}\r\n`;
  if (!req.hasOutside) out += `x-outside-url: ${ctx.outsideUrl ?? `${ctx.scheme}://${req.host || ctx.listenAddress}`}\r\n`;
  out += `via: ${req.via ? `${req.via}, ` : ''}1.1 ${ctx.viaToken}\r\n`;
  if (ctx.epoch > 0) out += `x-wheelhouse-epoch: ${ctx.epoch}\r\n`;
  return `${out}\r\n`;
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
   * The head for the client (latin1, ending in the empty line) when the backend's cannot go as it
   * is: without the backend's `Connection: close` (the client's connection is the proxy's), with
   * `Connection: close` when the client's connection ends after this answer. Undefined in the
   * common case — the backend's head says `Connection: keep-alive` (and its `Keep-Alive: timeout`,
   * the nodes' 65 s, which is the proxy's own idle timeout), and goes out byte for byte.
   * `Transfer-Encoding: chunked` always stays: the body is relayed in the framing it came in.
   */
  clientHead: string | undefined;
}

/**
 * Parses a backend's answer head (`head`: latin1 up to, not including, the empty line) to a
 * `method` request; `closeClient`: the client's connection ends after this answer anyway.
 * Undefined for what a Wheelhouse node never sends to a read (a 1xx, conflicting lengths, an
 * unparsable line): the caller treats it as a failed exchange. Pure.
 */
export function parseAnswerHead(head: string, method: 'GET' | 'HEAD', closeClient: boolean): AnswerHead | undefined {
  const firstEnd = head.indexOf('\r\n');
  const m = STATUS_LINE.exec(firstEnd < 0 ? head : head.slice(0, firstEnd));
  if (!m) return undefined;
  const status = Number(m[2]);
  if (status < 200) return undefined;
  const a: AnswerHead = { status, framing: { kind: 'none' }, keepAlive: m[1] === '1', serial: NaN, masterUuid: '', epoch: undefined, role: undefined, clientHead: undefined };
  let length: number | undefined;
  let chunked: boolean | undefined;
  let backendCloses = false;
  for (let at = firstEnd; at >= 0; ) {
    const from = at + 2;
    at = head.indexOf('\r\n', from);
    // only names starting c, k, t or x matter here: the rest are passed over unread
    const c = head.charCodeAt(from) | 0x20;
    if (c !== 0x63 && c !== 0x6b && c !== 0x74 && c !== 0x78) continue;
    const line = at < 0 ? head.slice(from) : head.slice(from, at);
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const value = line.slice(colon + 1).trim();
    switch (line.slice(0, colon).toLowerCase()) {
      case 'connection':
        if (/(?:^|[\s,])close(?:$|[\s,])/i.test(value)) backendCloses = true;
        else if (/keep-alive/i.test(value)) a.keepAlive = true;
        break;
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
        a.serial = Number(value);
        break;
      case 'x-devpi-master-uuid':
        a.masterUuid = value;
        break;
      case 'x-wheelhouse-epoch':
        a.epoch = value;
        break;
      case 'x-wheelhouse-role':
        a.role = value;
        break;
    }
  }
  if (method === 'HEAD' || status === 204 || status === 304) a.framing = { kind: 'none' };
  else if (chunked !== undefined) a.framing = chunked ? { kind: 'chunked' } : { kind: 'close' };
  else if (length !== undefined) a.framing = length === 0 ? { kind: 'none' } : { kind: 'length', bytes: length };
  else a.framing = { kind: 'close' };
  if (backendCloses || a.framing.kind === 'close') a.keepAlive = false;
  const closeAfter = closeClient || a.framing.kind === 'close';
  if (backendCloses || closeAfter || !a.keepAlive) a.clientHead = clientHeadWithout(head, closeAfter);
  return a;
}

/** The backend's head without its `Connection` and `Keep-Alive` lines, `Connection: close` added when `close`. */
function clientHeadWithout(head: string, close: boolean): string {
  let out = '';
  for (const line of head.split('\r\n')) {
    const name = line.slice(0, Math.max(0, line.indexOf(':'))).toLowerCase();
    if (name !== 'connection' && name !== 'keep-alive') out += `${line}\r\n`;
  }
  return `${out}${close ? 'connection: close\r\n' : ''}\r\n`;
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
