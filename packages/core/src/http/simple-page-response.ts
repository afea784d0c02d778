/**
 * Answers a simple page on the raw read path (PEP 503/691): redirects to the canonical URL
 * (normalised project name, trailing slash), negotiates HTML or JSON, lets the mirrors of the
 * index's resolution order make their cached pages usable first, then sends the rendered page
 * as a mutable body (ETag, `max-age=0, must-revalidate`, 304), gzip or br encoded when the client
 * accepts it (compressed once per cached page). A page served while upstream
 * could not be checked carries RFC 7234 §5.5.1 warn-code 110.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { nodeHeaderList, sendEncodableBody, type NodeInfo } from '@wheelhouse/http';
import { BadGatewayError, NotAcceptableError, NotFoundError } from '../errors.js';
import { getIndex } from '../model/indexes.js';
import { normalizeProjectName } from '../names.js';
import type { MirrorAccess, PrepareOutcome } from './mirror-access.js';
import { negotiateSimple } from './negotiate.js';
import type { PageSource, RenderedPage, SimplePages } from './simple-pages.js';

/** What a simple page answer needs. */
export interface SimplePageDeps {
  state: PageSource;
  pages: SimplePages;
  node: NodeInfo;
  mirrors?: MirrorAccess;
}

/** The route fields of a simple page request (see `read-route.ts`). */
export interface SimpleRequest {
  user: string;
  index: string;
  project?: string;
  slash: boolean;
}

/** Where a non-canonical simple URL redirects to (relative), or undefined when it is canonical. */
export function canonicalRedirect(r: SimpleRequest): string | undefined {
  if (r.project === undefined) return r.slash ? undefined : '+simple/';
  const normalized = normalizeProjectName(r.project);
  if (normalized === r.project && r.slash) return undefined;
  return `${r.slash ? '../' : ''}${encodeURIComponent(normalized)}/`;
}

/** Sends a rendered page (see module doc); `stale` adds the `Warning`. */
export function sendPage(req: IncomingMessage, res: ServerResponse, node: NodeInfo, page: RenderedPage, type: string, stale?: string): void {
  const nodeHead = nodeHeaderList(node);
  const head = stale ? [...nodeHead, 'Warning', `110 wheelhouse "Response is Stale: ${stale.replace(/["\\\r\n]/g, ' ').slice(0, 200)}"`] : nodeHead;
  sendEncodableBody(req, res, head, { contentType: type, caching: 'mutable', vary: 'Accept' }, page);
}

/**
 * Answers a simple page (see module doc). Throws NotFoundError (no such index or project),
 * NotAcceptableError (406), BadGatewayError (nothing cached and upstream failed); asynchronous
 * when a mirror must fetch first (the promise rejects with the same errors).
 */
export function answerSimple(deps: SimplePageDeps, req: IncomingMessage, res: ServerResponse, r: SimpleRequest): void | Promise<void> {
  const { state, pages, node } = deps;
  const cfg = getIndex(state, r.user, r.index);
  if (!cfg) throw new NotFoundError(`index '${r.user}/${r.index}' does not exist`);
  const location = canonicalRedirect(r);
  if (location !== undefined) {
    res.writeHead(302, [...nodeHeaderList(node), 'Location', location, 'Content-Length', '0']);
    res.end();
    return;
  }
  const neg = negotiateSimple(req.headers.accept);
  if (!neg) throw new NotAcceptableError('acceptable types: application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html, text/html');
  const stage = `${r.user}/${r.index}`;
  const project = r.project;
  if (project === undefined) {
    if (cfg.type === 'mirror' && deps.mirrors) return deps.mirrors.serveList(req, res, stage, neg.format);
    return sendPage(req, res, node, pages.indexPage(stage, neg.format), neg.type);
  }
  // mirrors in the order, allowed for this name: make their cached pages usable first
  const pending: Array<Promise<PrepareOutcome> | PrepareOutcome> = [];
  if (deps.mirrors) {
    const policy = pages.mirrorPolicy(stage, project);
    if (policy.allowed) for (const m of policy.mirrors) {
      const p = deps.mirrors.prepare(m, project);
      if (p) pending.push(p);
    }
  }
  const render = (outcomes: PrepareOutcome[]): void => {
    const page = pages.projectPage(stage, project, neg.format);
    if (!page) {
      const error = outcomes.find((o) => o.error)?.error;
      if (error) throw new BadGatewayError(error);
      throw new NotFoundError(`The project ${project} does not exist.`);
    }
    sendPage(req, res, node, page, neg.type, outcomes.find((o) => o.stale)?.stale);
  };
  if (pending.every((p) => !(p instanceof Promise))) return render(pending as PrepareOutcome[]);
  return Promise.all(pending).then(render, (err: unknown) => {
    throw new BadGatewayError((err as Error).message);
  });
}
