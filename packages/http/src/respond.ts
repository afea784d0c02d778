/**
 * How a node answers in JSON: devpi's envelope (§1.1 of the devpi reference: `type` + `result`
 * together, `message` when not empty, pretty-printed with a trailing newline) and the one function
 * that turns an error into a response — used by the express error handler and by the raw read
 * path alike, so both answer the same status, headers and body for the same error.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { isBodyParserError, isMappedError, statusOf } from './error-status.js';

/** What an API response carries. */
export interface Envelope {
  type?: string;
  result?: unknown;
  message?: string;
}

/** The JSON text of `envelope` as devpi writes it (see module doc). */
export function jsonText(envelope: Envelope): string {
  const out: Envelope = {};
  if (envelope.type !== undefined) {
    out.type = envelope.type;
    out.result = envelope.result;
  }
  if (envelope.message) out.message = envelope.message;
  return JSON.stringify(out, null, 2) + '\n';
}

/** Sends `envelope` as JSON with `status` (headers set before are kept). */
export function sendJson(res: ServerResponse, status: number, envelope: Envelope): void {
  const body = jsonText(envelope);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** A reason phrase must be visible latin-1 without CR/LF: twine prints it, so keep the message. */
export function toReasonPhrase(message: string): string {
  return message.replace(/[^\x20-\x7e\xa0-\xff]+/g, ' ').slice(0, 300);
}

/** The message a client sees for `err`: a coded error's own, body-parser wording, else a generic 500 text. */
export function publicMessage(err: unknown): string {
  if (isMappedError(err)) return err.message;
  if (isBodyParserError(err)) {
    if (err.type === 'entity.parse.failed') return `invalid JSON body: ${err.message}`;
    if (err.type === 'entity.too.large') return 'request body too large';
    return err.message;
  }
  return 'internal server error';
}

/**
 * Answers `err` (see module doc): status from the error table, the error's extra headers
 * (`WWW-Authenticate`, `Retry-After`), the message in the reason phrase and as `{"message": …}`.
 * An error the table does not know is logged at error level and answers 500. When headers already
 * went out (a streamed file), the socket is destroyed instead of writing a second response.
 */
export function sendError(log: Logger, req: IncomingMessage, res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    log.warn({ err, url: req.url }, 'error after response started; closing connection');
    res.destroy();
    return;
  }
  if (statusOf(err) === 500) log.error({ err, method: req.method, url: req.url }, 'unhandled error');
  answerError(res, err);
}

/**
 * Writes the answer for `err` without logging (a gateway's deliberate answer, e.g. the proxy's
 * 503 while the master is down): status from the error table, the error's headers, the message as
 * reason phrase and `{"message": …}`. When headers already went out the socket is destroyed.
 */
export function answerError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (isMappedError(err)) for (const [k, v] of Object.entries(err.headers ?? {})) res.setHeader(k, v);
  const message = publicMessage(err);
  res.statusMessage = toReasonPhrase(message);
  sendJson(res, statusOf(err), { message });
}
