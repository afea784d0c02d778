/**
 * Answers a release file or its PEP 658 `.metadata` (`<file URL>.metadata`, the wheel's METADATA)
 * on the raw read path, from this node's own state: small files from the blob cache (one
 * `res.end(buffer)`), larger ones and byte ranges streamed from disk; content-addressed, so
 * `immutable`. Bytes recorded but not on disk go to `onMissing` (a replica fetches them).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { contentTypeFor, nodeHeaderList, sendBody, sendStoredBody, setNodeHeaders, type NodeInfo } from '@wheelhouse/http';
import { NotFoundError } from '../errors.js';
import { type FileEntry } from '../model/records.js';
import { keys } from '../model/keys.js';
import type { StateReader } from '../model/state.js';
import type { BlobCache } from './blob-cache.js';

/** Where release file bytes are (the changelog package's FileStore satisfies this). */
export interface BlobPaths {
  pathFor(sha256: string): string;
}

/** A stored file the URL names: its entry, the sha256 of the bytes to send and their size (bytes; 0 = unknown, small). */
export interface FileTarget {
  entry: FileEntry;
  sha256: string;
  size: number;
}

/** The file an entrypath names (a `.metadata` path names its file's metadata), or undefined. */
export function findFileTarget(state: StateReader, entrypath: string): FileTarget | undefined {
  const entry = state.get<FileEntry>(keys.file(entrypath));
  if (entry) return entry.sha256 ? { entry, sha256: entry.sha256, size: entry.size } : undefined;
  if (!entrypath.endsWith('.metadata')) return undefined;
  const of = state.get<FileEntry>(keys.file(entrypath.slice(0, -'.metadata'.length)));
  return of?.metadata_sha256 ? { entry: of, sha256: of.metadata_sha256, size: 0 } : undefined;
}

/** What answering a file needs. */
export interface ReleaseFileDeps {
  blobs: BlobPaths;
  cache: BlobCache;
  node: NodeInfo;
  /** Answers when the bytes are not on disk (default: NotFoundError). */
  onMissing?: (req: IncomingMessage, res: ServerResponse, entry: FileEntry, sha256: string) => unknown;
}

/** Answers `target` (see module doc); rejects with what `onMissing` throws (NotFoundError by default). */
export function answerReleaseFile(deps: ReleaseFileDeps, req: IncomingMessage, res: ServerResponse, entrypath: string, filename: string, target: FileTarget): void | Promise<void> {
  const { cache, node } = deps;
  const { entry, sha256, size } = target;
  const meta = { etag: `"${sha256}"`, modified: entry.modified, contentType: contentTypeFor(filename), caching: 'immutable' as const };
  const missing = (): unknown => {
    if (!deps.onMissing) throw new NotFoundError(`the content of ${entrypath} is missing on this server`);
    setNodeHeaders(res, node);
    return deps.onMissing(req, res, entry, sha256);
  };
  const path = deps.blobs.pathFor(sha256);
  if (size <= cache.maxFileBytes && req.headers.range === undefined) {
    const cached = cache.get(sha256);
    if (cached) return sendBody(req, res, nodeHeaderList(node), meta, cached);
    return cache.load(sha256, path).then(
      (bytes) => sendBody(req, res, nodeHeaderList(node), meta, bytes),
      async () => {
        await missing();
      },
    );
  }
  return sendStoredBody(req, res, nodeHeaderList(node), { ...meta, path, size }, missing);
}
