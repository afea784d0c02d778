/**
 * The hot read path — simple pages, release files and their `.metadata` — answered straight from a
 * `node:http` handler, before express: these are most of an index's traffic, and express's
 * per-request cost would cut their throughput by more than half. Composed of: URL routing
 * (`read-route.ts`), simple pages (`simple-page-response.ts`), release files
 * (`release-file-response.ts`) and mirror files not stored yet (`mirror-file-route.ts`). Shared by
 * master and replica: both serve reads from their own state only. Errors are thrown (or the
 * returned promise rejects): the caller wraps the path in `guard()` of `@wheelhouse/http`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OpenFiles, type NodeInfo } from '@wheelhouse/http';
import { NotFoundError } from '../errors.js';
import type { FileEntry } from '../model/records.js';
import { BlobCache } from './blob-cache.js';
import { findMirrorFile } from './mirror-file-route.js';
import type { MirrorAccess } from './mirror-access.js';
import { normalizePlus, routeRead } from './read-route.js';
import { answerReleaseFile, findFileTarget, type BlobPaths } from './release-file-response.js';
import { answerSimple } from './simple-page-response.js';
import type { PageSource, SimplePages } from './simple-pages.js';

/** Dependencies of the fast read path. */
export interface FastPathDeps {
  state: PageSource;
  pages: SimplePages;
  blobs: BlobPaths;
  node: NodeInfo;
  /** Cache of small files (default: 1 MiB files, 64 MiB in all). */
  cache?: BlobCache;
  /** Open handles of larger files (default: 64 kept, each closed after 10 s unused). */
  files?: OpenFiles;
  /**
   * Answers when a file entry exists but its bytes are not on disk (a replica fetches them from the
   * master; a returned promise is awaited); default answers 404.
   */
  onMissingBlob?: (req: IncomingMessage, res: ServerResponse, entry: FileEntry, sha256: string) => unknown;
  /** Mirror indexes (absent: mirror pages show only what is cached). */
  mirrors?: MirrorAccess;
}

/**
 * Answers the hot reads: false for a request it does not answer (hand it to express); true when
 * answered at once; a promise of an answer still being written. Throws, or rejects, with typed
 * errors (NotFoundError, NotAcceptableError, BadGatewayError, …) to be answered by the guard.
 */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<void>;

/** Builds the fast read path (see module doc). */
export function createFastPath(deps: FastPathDeps): FastPath {
  const { state, blobs, node, mirrors } = deps;
  const fileDeps = { blobs, node, cache: deps.cache ?? new BlobCache(), files: deps.files ?? new OpenFiles(), ...(deps.onMissingBlob ? { onMissing: deps.onMissingBlob } : {}) };

  function file(req: IncomingMessage, res: ServerResponse, entrypath: string, filename: string): void | Promise<void> {
    const target = findFileTarget(state, entrypath);
    if (target) return answerReleaseFile(fileDeps, req, res, entrypath, filename, target);
    const m = mirrors && findMirrorFile(state, entrypath, filename);
    if (!m) throw new NotFoundError(`no such file ${entrypath}`);
    return m.metadata ? mirrors!.serveMetadata(req, res, m.stage, m.project, m.link) : mirrors!.serveFile(req, res, m.stage, m.project, m.link);
  }

  return (req, res) => {
    // normalised once, here, for express too
    if (req.url) req.url = normalizePlus(req.url);
    const route = routeRead(req.method, req.url ?? '/', req.headers.accept);
    if (!route) return false;
    const out = route.kind === 'simple' ? answerSimple(deps, req, res, route) : file(req, res, route.entrypath, route.filename);
    return out ?? true;
  };
}
