/**
 * A mirror's full project list is stored as two pages (HTML, JSON) in the file store. Their bytes
 * are content-addressed but the list's URL (`/<mirror>/+simple/`) is not: each refresh gives it
 * other bytes, so the page is `mutable` (revalidated, never `immutable`).
 */
import type { StoredBody } from '@wheelhouse/http';
import type { MirrorListRecord } from '../model/records.js';
import type { SimpleFormat } from './negotiate.js';
import type { BlobPaths } from './release-file-response.js';

/** The stored page of a mirror's project list in `format`, as a mutable body (master and replica serve it alike). */
export function mirrorListBody(files: BlobPaths, rec: MirrorListRecord, format: SimpleFormat): StoredBody {
  const sha256 = format === 'json' ? rec.json_sha256 : rec.html_sha256;
  return {
    path: files.pathFor(sha256),
    size: format === 'json' ? rec.json_size : rec.html_size,
    etag: `"${sha256}"`,
    modified: rec.fetched,
    contentType: format === 'json' ? 'application/vnd.pypi.simple.v1+json' : 'text/html; charset=utf-8',
    caching: 'mutable',
    vary: 'Accept',
  };
}

