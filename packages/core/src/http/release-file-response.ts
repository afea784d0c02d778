/**
 * Answers a release file or its PEP 658 `.metadata` (`<file URL>.metadata`, the wheel's METADATA)
 * on the raw read path, from this node's own state: small files from the blob cache (one
 * `res.end(buffer)` after headers prepared once per file entry), larger ones and byte ranges
 * read from a handle kept open (http's OpenFiles); content-addressed, so `immutable`. Bytes recorded but not on disk go to
 * `onMissing` (a replica fetches them).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PreparedHeaders, contentTypeFor, nodeHeaderList, sendStoredBody, setNodeHeaders, type BodyMeta, type NodeInfo, type OpenFiles } from '@wheelhouse/http';
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
  /** Handles of large files kept open between requests (absent: a read stream per request). */
  files?: OpenFiles;
  node: NodeInfo;
  /** Answers when the bytes are not on disk (default: NotFoundError). */
  onMissing?: (req: IncomingMessage, res: ServerResponse, entry: FileEntry, sha256: string) => unknown;
}

/** The answer's description of a target's bytes (`filename` gives the content type). */
function metaOf(filename: string, target: FileTarget): BodyMeta {
  return { etag: `"${target.sha256}"`, modified: target.entry.modified, contentType: contentTypeFor(filename), caching: 'immutable' };
}

/** Prepared headers of one target, for the file name they were made for. */
interface Prepared {
  filename: string;
  sha256: string;
  headers: PreparedHeaders;
}

/**
 * Prepared headers of cached files, per file entry (entries are frozen and replaced on change, so
 * an entry's headers never go stale; they go with the entry): one for the file, one for its
 * `.metadata`. Header lists only, never bytes — those stay in the byte-bounded BlobCache.
 */
const preparedByEntry = new WeakMap<FileEntry, { file?: Prepared; metadata?: Prepared }>();

function preparedFor(filename: string, target: FileTarget, bytes: Buffer): PreparedHeaders {
  let slots = preparedByEntry.get(target.entry);
  if (!slots) {
    slots = {};
    preparedByEntry.set(target.entry, slots);
  }
  const which = target.sha256 === target.entry.sha256 ? 'file' : 'metadata';
  const kept = slots[which];
  if (kept && kept.filename === filename && kept.headers.size === bytes.length && kept.sha256 === target.sha256) return kept.headers;
  const headers = new PreparedHeaders(metaOf(filename, target), bytes.length);
  slots[which] = { filename, sha256: target.sha256, headers };
  return headers;
}

/** What answers when the bytes are not on disk (see ReleaseFileDeps.onMissing). */
function missingOf(deps: ReleaseFileDeps, req: IncomingMessage, res: ServerResponse, entrypath: string, target: FileTarget): () => unknown {
  return () => {
    if (!deps.onMissing) throw new NotFoundError(`the content of ${entrypath} is missing on this server`);
    setNodeHeaders(res, deps.node);
    return deps.onMissing(req, res, target.entry, target.sha256);
  };
}

/** Answers `target` (see module doc); rejects with what `onMissing` throws (NotFoundError by default). */
export function answerReleaseFile(deps: ReleaseFileDeps, req: IncomingMessage, res: ServerResponse, entrypath: string, filename: string, target: FileTarget): void | Promise<void> {
  const { cache, node } = deps;
  const { sha256, size } = target;
  if (size <= cache.maxFileBytes && req.headers.range === undefined) {
    const cached = cache.get(sha256);
    if (cached) return preparedFor(filename, target, cached).send(req, res, nodeHeaderList(node), cached);
    return cache.load(sha256, deps.blobs.pathFor(sha256)).then(
      (bytes) => preparedFor(filename, target, bytes).send(req, res, nodeHeaderList(node), bytes),
      async () => {
        await missingOf(deps, req, res, entrypath, target)();
      },
    );
  }
  return sendStoredBody(req, res, nodeHeaderList(node), { ...metaOf(filename, target), path: deps.blobs.pathFor(sha256), size }, missingOf(deps, req, res, entrypath, target), deps.files);
}
