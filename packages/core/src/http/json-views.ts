/**
 * devpi's JSON views that grow with the data (`projectconfig` of a project with thousands of
 * versions, `indexconfig` with its project list): a view of at least COMPRESS_MIN_BYTES is kept per
 * (URL with query, outside URL) at the serial it was rendered at, so until the next commit it is
 * neither rendered nor compressed again, and it goes out gzip or br encoded to clients that accept
 * it (http's `sendEncodableBody`: `Vary: Accept-Encoding`, an ETag per coding, 304). Smaller views
 * go out as plain JSON, rendered per request. A view depends only on the node's state at a serial
 * and the outside URL — never on who asks (access is decided before the view is rendered).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { COMPRESS_MIN_BYTES, jsonText, sendEncodableBody, sendJson, type EncodableBody, type Envelope } from '@wheelhouse/http';

const JSON_META = { contentType: 'application/json', caching: 'mutable' as const };

/** The kept views (see module doc). */
export class JsonViews {
  private readonly kept = new Map<string, { serial: number; page: EncodableBody }>();

  /** `source.head`: the serial views are valid at; `maxEntries`: views kept (oldest dropped first). */
  constructor(
    private readonly source: { readonly head: number },
    private readonly maxEntries = 64,
  ) {}

  /**
   * Answers the view `key` (the request's URL and outside URL) with 200: the kept one when it was
   * rendered at the current serial, else `render()`'s (kept when large). Throws what `render` throws.
   */
  send(req: IncomingMessage, res: ServerResponse, key: string, render: () => Envelope): void {
    const serial = this.source.head;
    const hit = this.kept.get(key);
    if (hit && hit.serial === serial) return sendEncodableBody(req, res, [], JSON_META, hit.page);
    const envelope = render();
    const text = jsonText(envelope);
    if (text.length < COMPRESS_MIN_BYTES) return sendJson(res, 200, envelope);
    const body = Buffer.from(text, 'utf8');
    const page: EncodableBody = { body, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 40)}"` };
    this.kept.delete(key);
    this.kept.set(key, { serial, page });
    if (this.kept.size > this.maxEntries) this.kept.delete(this.kept.keys().next().value!);
    sendEncodableBody(req, res, [], JSON_META, page);
  }
}
