/**
 * The hot read path — simple pages, release files and their `.metadata` — answered straight from a
 * `node:http` handler, before express: these are most of an index's traffic, and express's
 * per-request cost would cut their throughput by more than half. Headers go out in one
 * `writeHead(status, list)`; pages come from the simple-page cache, small files from the blob
 * cache (one `res.end(buffer)`), larger ones and byte ranges are streamed from disk. Anything else
 * falls through to the express app. Shared by master and replica: both serve reads from their own
 * state only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getIndex } from '../model/indexes.js';
import { keys, type FileEntry } from '../model/records.js';
import { getMirrorProject, mirrorPolicy } from '../model/mirrors.js';
import { normalizeProjectName, parseFileName } from '../names.js';
import type { MirrorAccess, PrepareOutcome } from './mirror-access.js';
import { negotiateSimple } from './negotiate.js';
import { nodeHeaderList, setNodeHeaders, type NodeInfo } from './node-info.js';
import type { SimplePages, PageSource } from './simple-pages.js';
import { contentTypeFor, sendStoredFile } from './file-response.js';
import { BlobCache } from './blob-cache.js';
import { sendNodeError } from './respond.js';

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
  /** Cache of small files (default: 1 MiB files, 64 MiB in all). */
  cache?: BlobCache;
  /**
   * Called when a file entry exists but its bytes are not on disk (a replica fetches them from the
   * master); default answers 404.
   */
  onMissingBlob?: (req: IncomingMessage, res: ServerResponse, entry: FileEntry, sha256: string) => void;
  /** Mirror indexes (absent: mirror pages show only what is cached). */
  mirrors?: MirrorAccess;
}

/** A request handler that answers the hot reads and returns false for everything else. */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

const FILE_CACHE_CONTROL = 'public, max-age=31536000, immutable';
const PAGE_CACHE_CONTROL = 'max-age=0, must-revalidate';

function decode(seg: string): string | undefined {
  if (!seg.includes('%')) return seg;
  try {
    return decodeURIComponent(seg);
  } catch {
    return undefined;
  }
}

/** Builds the fast read path (see module doc). */
export function createFastPath(deps: FastPathDeps): FastPath {
  const { state, pages, blobs, node } = deps;
  const cache = deps.cache ?? new BlobCache();

  const sendJsonError = (res: ServerResponse, status: number, message: string): void => sendNodeError(res, node, status, message);

  const redirect = (res: ServerResponse, location: string): void => {
    res.writeHead(302, [...nodeHeaderList(node), 'Location', location, 'Content-Length', '0']);
    res.end();
  };

  function simple(req: IncomingMessage, res: ServerResponse, user: string, index: string, project: string | undefined, slash: boolean): void {
    const cfg = getIndex(state, user, index);
    if (!cfg) return sendJsonError(res, 404, `index '${user}/${index}' does not exist`);
    if (project !== undefined) {
      const normalized = normalizeProjectName(project);
      if (normalized !== project || !slash) return redirect(res, `${slash ? '../' : ''}${encodeURIComponent(normalized)}/`);
    } else if (!slash) {
      return redirect(res, '+simple/');
    }
    const neg = negotiateSimple(req.headers.accept);
    if (!neg) return sendJsonError(res, 406, 'acceptable types: application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html, text/html');
    const stage = `${user}/${index}`;
    if (project === undefined) {
      if (cfg.type === 'mirror' && deps.mirrors) return deps.mirrors.serveList(req, res, stage, neg.format);
      return sendPage(req, res, pages.indexPage(stage, neg.format), neg.type);
    }
    // mirrors in the order, allowed for this name: make their cached pages usable first
    const pending: Array<Promise<PrepareOutcome> | PrepareOutcome> = [];
    if (deps.mirrors) {
      const policy = mirrorPolicy(state, stage, project);
      if (policy.allowed) for (const m of policy.mirrors) {
        const p = deps.mirrors.prepare(m, project);
        if (p) pending.push(p);
      }
    }
    const render = (outcomes: PrepareOutcome[]): void => {
      const page = pages.projectPage(stage, project, neg.format);
      if (!page) {
        const error = outcomes.find((o) => o.error)?.error;
        if (error) return sendJsonError(res, 502, error);
        return sendJsonError(res, 404, `The project ${project} does not exist.`);
      }
      const stale = outcomes.find((o) => o.stale)?.stale;
      sendPage(req, res, page, neg.type, stale);
    };
    if (pending.every((p) => !(p instanceof Promise))) return render(pending as PrepareOutcome[]);
    Promise.all(pending).then(render, (err: unknown) => sendJsonError(res, 502, (err as Error).message));
  }

  function sendPage(req: IncomingMessage, res: ServerResponse, page: { body: Buffer; etag: string } | undefined, type: string, stale?: string): void {
    if (!page) return sendJsonError(res, 404, 'no such page');
    const headers = [...nodeHeaderList(node), 'Vary', 'Accept', 'ETag', page.etag, 'Cache-Control', PAGE_CACHE_CONTROL];
    // RFC 7234 §5.5.1 warn-code 110: the client sees that upstream could not be checked
    if (stale) headers.push('Warning', `110 wheelhouse "Response is Stale: ${stale.replace(/["\\\r\n]/g, ' ').slice(0, 200)}"`);
    if (req.headers['if-none-match'] === page.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    headers.push('Content-Type', type, 'Content-Length', String(page.body.length));
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : page.body);
  }

  function sendBytes(req: IncomingMessage, res: ServerResponse, bytes: Buffer, sha256: string, modified: number, filename: string): void {
    const etag = `"${sha256}"`;
    const headers = [
      ...nodeHeaderList(node),
      'ETag', etag,
      'Last-Modified', new Date(modified).toUTCString(),
      'Cache-Control', FILE_CACHE_CONTROL,
      'Accept-Ranges', 'bytes',
    ];
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    headers.push('Content-Type', contentTypeFor(filename), 'Content-Length', String(bytes.length));
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : bytes);
  }

  /** A mirror link not stored here yet (or its `.metadata`): true when handed to the mirror access. */
  function mirrorFile(req: IncomingMessage, res: ServerResponse, entrypath: string, filename: string): boolean {
    const [user, index, , h3, h13] = entrypath.split('/') as [string, string, string, string, string];
    const cfg = getIndex(state, user, index);
    if (cfg?.type !== 'mirror') return false;
    const metadata = filename.endsWith('.metadata');
    const base = metadata ? filename.slice(0, -'.metadata'.length) : filename;
    const parsed = parseFileName(base);
    if (!parsed) return false;
    const project = normalizeProjectName(parsed.name);
    const link = getMirrorProject(state, `${user}/${index}`, project)?.links.find((l) => l.filename === base && l.sha256?.startsWith(h3 + h13));
    if (!link) return false;
    if (metadata) {
      if (typeof link.core_metadata !== 'string') return false;
      deps.mirrors!.serveMetadata(req, res, `${user}/${index}`, project, link);
    } else deps.mirrors!.serveFile(req, res, `${user}/${index}`, project, link);
    return true;
  }

  function file(req: IncomingMessage, res: ServerResponse, entrypath: string): void {
    let entry = state.get<FileEntry>(keys.file(entrypath));
    let sha256 = entry?.sha256;
    let size = entry?.size;
    const filename = entrypath.slice(entrypath.lastIndexOf('/') + 1);
    if (!entry && filename.endsWith('.metadata')) {
      // PEP 658: `<file URL>.metadata` is the wheel's METADATA (small: always through the cache)
      entry = state.get<FileEntry>(keys.file(entrypath.slice(0, -'.metadata'.length)));
      sha256 = entry?.metadata_sha256;
      size = 0;
    }
    if ((!entry || !sha256) && deps.mirrors && mirrorFile(req, res, entrypath, filename)) return;
    if (!entry || !sha256 || size === undefined) return sendJsonError(res, 404, `no such file ${entrypath}`);
    const found = entry;
    const sha = sha256;
    const missing = (): void => {
      if (deps.onMissingBlob) {
        setNodeHeaders(res, node);
        deps.onMissingBlob(req, res, found, sha);
      } else sendJsonError(res, 404, `the content of ${entrypath} is missing on this server`);
    };
    const path = blobs.pathFor(sha);
    if (size <= cache.maxFileBytes && req.headers.range === undefined) {
      const cached = cache.get(sha);
      if (cached) return sendBytes(req, res, cached, sha, found.modified, filename);
      cache.load(sha, path).then(
        (bytes) => sendBytes(req, res, bytes, sha, found.modified, filename),
        () => missing(),
      );
      return;
    }
    setNodeHeaders(res, node);
    sendStoredFile(req, res, { path, size, sha256: sha, modified: found.modified, contentType: contentTypeFor(filename) }, missing);
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
