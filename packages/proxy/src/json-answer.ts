/**
 * The proxy's own JSON answers (errors, status, drain switches), in devpi's shape: a body
 * `{"message": …}` and the message also as the reason phrase, which twine prints.
 */
import type { ServerResponse } from 'node:http';

/** The answer to a write while the master is unreachable (sent with 503 and `Retry-After: 10`). */
export const MASTER_DOWN_MESSAGE = 'the master is unavailable: uploads and other changes are refused until it is back; installs keep working';

/** A message made fit for a reason phrase: printable ASCII only, at most 300 characters. */
export function reasonPhrase(message: string): string {
  return message.replace(/[^\x20-\x7e]+/g, ' ').slice(0, 300);
}

/**
 * Sends `body` as pretty JSON with `status`; its `message` (if a string) becomes the reason phrase.
 * When headers already went out (a streamed body broke) the socket is destroyed instead, since a
 * second response cannot be written (STYLE #5).
 */
export function sendJson(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body, null, 2) + '\n';
  const message = typeof body['message'] === 'string' ? body['message'] : undefined;
  if (message) res.statusMessage = reasonPhrase(message);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
