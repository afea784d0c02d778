/**
 * The hot read path — simple pages, release files and their `.metadata` — answered straight from a
 * `node:http` handler, before express: these are most of an index's traffic, and express's
 * per-request cost would halve their throughput. Anything else falls through to the express app.
 * Shared by master and replica: both serve reads from their own state only.
 */
import { stat } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getIndex } from '../model/indexes.js';
import { keys, type FileEntry } from '../model/records.js';
import { normalizeProjectName } from '../names.js';
import { negotiateSimple } from './negotiate.js';
import { setNodeHeaders, type NodeInfo } from './node-info.js';
import type { SimplePages, PageSource } from './simple-pages.js';
import { contentTypeFor, sendStoredFile } from './file-response.js';

/** Where release file bytes are (the changelog package's FileStore satisfies this). */
export interface BlobPaths {
  pathFor(sha256: string): string;
}

/** Dependencies of the fast read path. */
export interface FastPathDeps {
  state: PageSource;
  pages: SimplePages;
  blobs: BlobPaths;
  node: NodeInfo;
  /**
   * Called when a file entry exists but its bytes are not on disk (a replica fetches them from the
   * master); default answers 404.
   */
  onMissingBlob?: (req: IncomingMessage, res: ServerResponse, entry: FileEntry, sha256: string) => void;
}

/** A request handler that answers the hot reads and returns false for everything else. */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

function sendJsonError(res: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ message });
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

function redirect(res: ServerResponse, location: string): void {
  res.statusCode = 302;
  res.setHeader('Location', location);
  res.setHeader('Content-Length', '0');
  res.end();
}

function decode(seg: string): string | undefined {
  try {
    return decodeURIComponent(seg);
  } catch {
    return undefined;
  }
}

/** Builds the fast read path (see module doc). */
export function createFastPath(deps: FastPathDeps): FastPath {
  const { state, pages, blobs, node } = deps;

  function simple(req: IncomingMessage, res: ServerResponse, user: string, index: string, project: string | undefined, slash: boolean): void {
    setNodeHeaders(res, node);
    if (!getIndex(state, user, index)) return sendJsonError(res, 404, `index '${user}/${index}' does not exist`);
    if (project !== undefined) {
      const normalized = normalizeProjectName(project);
      if (normalized !== project || !slash) return redirect(res, `${slash ? '../' : ''}${encodeURIComponent(normalized)}/`);
    } else if (!slash) {
      return redirect(res, '+simple/');
    }
    const neg = negotiateSimple(req.headers.accept);
    if (!neg) return sendJsonError(res, 406, 'acceptable types: application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html, text/html');
    const stage = `${user}/${index}`;
    const page = project === undefined ? pages.indexPage(stage, neg.format) : pages.projectPage(stage, project, neg.format);
    if (!page) return sendJsonError(res, 404, `The project ${project ?? ''} does not exist.`);
    res.setHeader('Vary', 'Accept');
    res.setHeader('ETag', page.etag);
    res.setHeader('Cache-Control', 'max-age=0, must-revalidate');
    if (req.headers['if-none-match'] === page.etag) {
      res.statusCode = 304;
      res.end();
      return;
    }
    res.setHeader('Content-Type', neg.type);
    res.setHeader('Content-Length', page.body.length);
    res.end(req.method === 'HEAD' ? undefined : page.body);
  }

  function file(req: IncomingMessage, res: ServerResponse, entrypath: string): void {
    setNodeHeaders(res, node);
    let entry = state.get<FileEntry>(keys.file(entrypath));
    let sha256 = entry?.sha256;
    let size = entry?.size;
    const filename = entrypath.slice(entrypath.lastIndexOf('/') + 1);
    if (!entry && filename.endsWith('.metadata')) {
      // PEP 658: `<file URL>.metadata` is the wheel's METADATA
      entry = state.get<FileEntry>(keys.file(entrypath.slice(0, -'.metadata'.length)));
      sha256 = entry?.metadata_sha256;
      size = undefined;
    }
    if (!entry || !sha256) return sendJsonError(res, 404, `no such file ${entrypath}`);
    const missing = (): void => {
      if (deps.onMissingBlob) deps.onMissingBlob(req, res, entry, sha256);
      else sendJsonError(res, 404, `the content of ${entrypath} is missing on this server`);
    };
    const path = blobs.pathFor(sha256);
    if (size === undefined) {
      // .metadata: size not recorded in the entry; stat once
      stat(path, (err, st) => {
        if (err) return missing();
        sendStoredFile(req, res, { path, size: st.size, sha256, modified: entry.modified, contentType: contentTypeFor(filename) }, missing);
      });
      return;
    }
    sendStoredFile(req, res, { path, size, sha256, modified: entry.modified, contentType: contentTypeFor(filename) }, missing);
  }

  return (req, res) => {
    // pip percent-encodes '+' in file URLs (`/%2Bf/`): same resource; normalised once, here, for express too
    if (req.url && (req.url.includes('%2B') || req.url.includes('%2b'))) req.url = req.url.replace(/\/%2[Bb]/g, '/+');
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const segs = path.split('/');
    // ['', user, index, '+simple' | '+f', ...]
    if (segs.length < 4 || segs[1] === '' || segs[1]!.startsWith('+') || segs[2] === '' || segs[2]!.startsWith('+')) return false;
    const user = decode(segs[1]!);
    const index = decode(segs[2]!);
    if (user === undefined || index === undefined) return false;
    if (segs[3] === '+simple') {
      if (segs.length === 4) simple(req, res, user, index, undefined, false);
      else if (segs.length === 5 && segs[4] === '') simple(req, res, user, index, undefined, true);
      else if (segs.length === 5 || (segs.length === 6 && segs[5] === '')) {
        const project = decode(segs[4]!);
        if (project === undefined || project === '') return false;
        simple(req, res, user, index, project, segs.length === 6);
      } else return false;
      return true;
    }
    if (segs[3] === '+f' && segs.length === 7 && (req.headers.accept ?? '').indexOf('application/json') < 0) {
      const parts = segs.slice(4).map(decode);
      if (parts.some((p) => p === undefined || p === '' || p === '..' || p === '.')) return false;
      file(req, res, `${user}/${index}/+f/${parts.join('/')}`);
      return true;
    }
    return false;
  };
}
