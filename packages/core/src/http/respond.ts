/**
 * devpi's JSON envelope (§1.1): an object with `type` + `result` (together), `message` (when not
 * empty); pretty-printed with a trailing newline.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { nodeHeaderList, type NodeInfo } from './node-info.js';

/** What an API response carries. */
export interface Envelope {
  type?: string;
  result?: unknown;
  message?: string;
}

/** Sends `envelope` as JSON with `status`. */
export function sendJson(res: ServerResponse, status: number, envelope: Envelope): void {
  const out: Envelope = {};
  if (envelope.type !== undefined) {
    out.type = envelope.type;
    out.result = envelope.result;
  }
  if (envelope.message) out.message = envelope.message;
  const body = JSON.stringify(out, null, 2) + '\n';
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** A reason phrase must be visible latin-1 without CR/LF: twine prints it, so keep the message. */
export function toReasonPhrase(message: string): string {
  return message.replace(/[^\x20-\x7e\xa0-\xff]+/g, ' ').slice(0, 300);
}

/**
 * The server's outside URL for a request, without trailing slash: devpi's `X-outside-url` header
 * first, then the configured outside URL, then `X-Forwarded-Proto/Host` or `Host`.
 */
export function outsideUrl(req: IncomingMessage, configured?: string): string {
  const header = req.headers['x-outside-url'];
  if (typeof header === 'string' && /^https?:\/\//.test(header)) return header.replace(/\/+$/, '');
  if (configured) return configured.replace(/\/+$/, '');
  const proto = (req.headers['x-forwarded-proto'] as string | undefined)?.split(',')[0]?.trim() ?? 'http';
  const host = (req.headers['x-forwarded-host'] as string | undefined)?.split(',')[0]?.trim() ?? req.headers.host ?? 'localhost';
  return `${proto}://${host}`;
}

/**
 * A `{"message": …}` error from the raw (non-express) read path, with the node's headers; when a
 * body was already started, the connection is cut instead.
 */
export function sendNodeError(res: ServerResponse, node: NodeInfo, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ message });
  res.writeHead(status, [...nodeHeaderList(node), 'Content-Type', 'application/json', 'Content-Length', String(Buffer.byteLength(body))]);
  res.end(body);
}
