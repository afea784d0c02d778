/**
 * The web interface every node serves (master and replicas, also with the master down): HTML pages
 * at devpi's URLs on content negotiation — only when the request accepts `text/html`, as browsers
 * send; API clients (devpi-client sends `Accept: application/json`) fall through to the JSON read
 * API mounted after this router — plus `/+search`, `/+status` for people, documentation at
 * `/{user}/{index}/{project}/{version}/+doc/{path}` (`latest` and `stable` as version aliases) and
 * the stylesheet. Pages carry a strict content-security policy (no script at all); documentation
 * is served with `Content-Security-Policy: sandbox …`, so uploaded HTML runs in an opaque origin
 * and cannot act on the index's own pages.
 */
import { readFile } from 'node:fs/promises';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { NotFoundError, BadRequestError, WheelhouseError } from '../errors.js';
import { getIndex, requireIndex, resolutionOrder } from '../model/indexes.js';
import { getProject, mergedReleases } from '../model/releases.js';
import { normalizeProjectName } from '../names.js';
import { latestVersion } from '../versions.js';
import { handle, param, validSegments } from '../http/read-api.js';
import { sendJson, statusOf } from '@wheelhouse/http';
import { outsideUrl } from '../http/outside-url.js';
import type { PageSource } from '../http/simple-pages.js';
import { DocZips, cleanDocPath, type DocBlobs } from './doc-zips.js';
import { html } from './html-template.js';
import { renderPage, type PageContext, type PageSpec } from './layout.js';
import { indexPage, projectPage, rootPage, userPage } from './listing-pages.js';
import { SearchIndex } from './search-index.js';
import { searchPage } from './search-page.js';
import { renderStatusBody } from './status-page.js';
import { STYLESHEET, STYLESHEET_PATH } from './style.js';
import { parseToxResult, type ToxSummary } from './tox-results.js';
import { versionPage } from './version-page.js';

/** Dependencies of the web router. */
export interface WebRouterDeps {
  state: PageSource;
  /** where stored blobs are (doc zips, test results) */
  files: DocBlobs;
  /** this node's `/+status` object */
  status: () => Record<string, unknown>;
  role: 'master' | 'replica';
  /** configured outside URL (else from the request) */
  outsideUrl?: string;
}

/** The router plus what it owns. */
export type WebRouter = Router & { search: SearchIndex; close(): void };

/** Policy of our own pages: no script, styles and forms only from here, images also from https. */
function pageCsp(base: string): string {
  return `default-src 'none'; style-src 'self' ${base}; img-src 'self' https: data:; form-action 'self' ${base}; base-uri 'none'; frame-ancestors 'none'`;
}

/** Policy of uploaded documentation: an opaque origin (no access to the index's pages, storage or credentials). */
export const DOC_CSP = "sandbox allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox; frame-ancestors 'self'";

/**
 * True when the request asks for HTML as browsers do. API clients ask for JSON; pip's PEP 691
 * `Accept` names `text/html` too, but after the simple API's own types, which browsers never send.
 */
export function wantsHtml(req: Request): boolean {
  const accept = req.headers.accept ?? '';
  return /\btext\/html\b/i.test(accept) && !/application\/(json|vnd\.pypi\.simple)/i.test(accept);
}

function firstQuery(req: Request, name: string): string {
  const v = req.query[name];
  return typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '';
}

/** Builds the web router (see module doc). */
export function createWebRouter(deps: WebRouterDeps): WebRouter {
  const { state } = deps;
  const search = new SearchIndex(state);
  const zips = new DocZips(deps.files);
  const router = express.Router();
  validSegments(router);
  for (const name of ['project', 'version']) {
    router.param(name, (_req, _res, next, value: string) => (value.startsWith('+') ? next('route') : next()));
  }

  const context = (req: Request): PageContext => ({ base: outsideUrl(req, deps.outsideUrl), role: deps.role, serial: state.head });

  const send = (req: Request, res: Response, spec: PageSpec, status = 200): void => {
    const ctx = context(req);
    const body = renderPage(ctx, spec);
    res.status(status);
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Content-Security-Policy', pageCsp(ctx.base));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Vary', 'Accept');
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  /** An HTML route: only for requests that want HTML (else the next router); model errors become an HTML error page. */
  const page = (fn: (req: Request, res: Response, next: NextFunction) => unknown | Promise<unknown>, always = false) =>
    (req: Request, res: Response, next: NextFunction): void => {
      if (!always && !wantsHtml(req)) return next();
      Promise.resolve()
        .then(() => fn(req, res, next))
        .catch((err: unknown) => {
          if (!(err instanceof WheelhouseError) || res.headersSent) return next(err);
          const base = context(req).base;
          const title = statusOf(err) === 404 ? 'Not found' : `Error ${statusOf(err)}`;
          send(req, res, {
            title,
            crumbs: [{ label: 'Indexes', href: `${base}/` }, { label: String(statusOf(err)) }],
            body: html`<h1>${title}</h1><p class="lead">${err.message}</p><p><a href="${base}/">Back to the indexes</a></p>`,
          }, statusOf(err));
        });
    };

  /** Redirects a non-normalised project name to the normalised URL (302); returns the name otherwise. */
  const canonicalProject = (req: Request, res: Response): string | undefined => {
    const raw = param(req, 'project');
    const project = normalizeProjectName(raw);
    if (project === raw) return project;
    const [path, query] = req.originalUrl.split('?') as [string, string | undefined];
    res.redirect(302, path.replace(`/${encodeURIComponent(raw)}`, `/${project}`).replace(`/${raw}`, `/${project}`) + (query ? `?${query}` : ''));
    return undefined;
  };

  router.get('/\\+static/:file', (req, res, next) => {
    if (`/+static/${param(req, 'file')}` !== STYLESHEET_PATH) return next();
    res.setHeader('Content-Type', 'text/css; charset=utf-8');
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.setHeader('Content-Length', Buffer.byteLength(STYLESHEET));
    res.end(req.method === 'HEAD' ? undefined : STYLESHEET);
  });

  router.get('/\\+search', handle((req, res) => {
    const query = firstQuery(req, 'query') || firstQuery(req, 'q');
    const answer = search.search(query);
    if (!wantsHtml(req) && /application\/json/.test(req.headers.accept ?? '')) {
      sendJson(res, 200, { type: 'searchresults', result: { query, ...answer } });
      return;
    }
    send(req, res, searchPage(context(req).base, query, answer));
  }));

  router.get('/\\+status', page((req, res) => {
    const base = context(req).base;
    send(req, res, { title: 'Status', crumbs: [{ label: 'Indexes', href: `${base}/` }, { label: 'Status' }], body: renderStatusBody(deps.status()) });
  }));

  router.get('/', page((req, res) => send(req, res, rootPage(context(req).base, state))));

  router.get('/:user{/}', page((req, res) => send(req, res, userPage(context(req).base, state, param(req, 'user')))));

  router.get('/:user/:index{/}', page((req, res) => {
    const u = param(req, 'user');
    const i = param(req, 'index');
    const cfg = requireIndex(state, u, i);
    const p = Number.parseInt(firstQuery(req, 'page') || '1', 10);
    send(req, res, indexPage(context(req).base, state, u, i, cfg, Number.isFinite(p) ? p : 1));
  }));

  router.get('/:user/:index/:project{/}', page((req, res, next) => {
    const u = param(req, 'user');
    const i = param(req, 'index');
    // mirror projects live upstream: the read API answers for them
    if (requireIndex(state, u, i).type !== 'stage') return next();
    const project = canonicalProject(req, res);
    if (project === undefined) return;
    const spec = projectPage(context(req).base, state, u, i, project);
    if (!spec) throw new NotFoundError(`no project '${project}' in ${u}/${i} or its bases`);
    send(req, res, spec);
  }));

  router.get('/:user/:index/:project/:version{/}', page(async (req, res, next) => {
    const u = param(req, 'user');
    const i = param(req, 'index');
    if (requireIndex(state, u, i).type !== 'stage') return next();
    const project = canonicalProject(req, res);
    if (project === undefined) return;
    const version = param(req, 'version');
    const stage = `${u}/${i}`;
    const releases = mergedReleases(state, stage, project);
    const found = releases.find((r) => r.version === version);
    if (!found) throw new NotFoundError(`no version '${version}' of project '${project}' in ${stage}`);
    const toxResults = new Map<string, ToxSummary | undefined | 'missing'>();
    await Promise.all(
      found.record.links
        .filter((l) => l.rel === 'toxresult')
        .slice(0, 200)
        .map(async (l) => {
          try {
            toxResults.set(l.entrypath, parseToxResult(await readFile(deps.files.pathFor(l.sha256))));
          } catch {
            toxResults.set(l.entrypath, 'missing');
          }
        }),
    );
    const name = getProject(state, found.stage, project)?.display_name
      ?? resolutionOrder(state, stage).map((s) => getProject(state, s, project)).find((r) => r)?.display_name
      ?? project;
    send(req, res, versionPage({
      base: context(req).base,
      user: u,
      index: i,
      project,
      name,
      version,
      stage: found.stage,
      record: found.record,
      shadowing: found.shadowing.map((s) => s.stage),
      versions: releases.map((r) => r.version).reverse(),
      toxResults,
    }));
  }));

  router.get('/:user/:index/:project/:version/\\+doc{/*path}', page(async (req, res) => {
    const u = param(req, 'user');
    const i = param(req, 'index');
    if (!getIndex(state, u, i)) throw new NotFoundError(`index '${u}/${i}' does not exist`);
    const project = canonicalProject(req, res);
    if (project === undefined) return;
    const at = req.path.indexOf('/+doc');
    const rest = req.path.slice(at + '/+doc'.length);
    if (rest === '') {
      res.redirect(302, `${req.originalUrl.split('?')[0]!}/`);
      return;
    }
    const path = cleanDocPath(rest.slice(1));
    if (path === undefined) throw new BadRequestError(`invalid documentation path '${rest}'`);
    const requested = param(req, 'version');
    const withDocs = mergedReleases(state, `${u}/${i}`, project).filter((r) => r.record.links.some((l) => l.rel === 'doczip'));
    const version = requested === 'latest' || requested === 'stable'
      ? latestVersion(withDocs.map((r) => r.version), requested === 'stable')
      : requested;
    const release = withDocs.find((r) => r.version === version);
    const doc = release?.record.links.find((l) => l.rel === 'doczip');
    if (!doc) throw new NotFoundError(`no documentation for ${project} ${requested} in ${u}/${i}`);
    let entry;
    try {
      entry = await zips.entry(doc.sha256, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`the documentation of ${project} ${version ?? ''} is not on this server yet`);
      throw new NotFoundError(`the documentation of ${project} ${version ?? ''} is not a readable zip`);
    }
    if (entry === 'folder') {
      res.redirect(302, `${req.originalUrl.split('?')[0]!}/`);
      return;
    }
    if (!entry) throw new NotFoundError(`no '${path}' in the documentation of ${project} ${version ?? ''}`);
    const etag = `"${doc.sha256.slice(0, 16)}-${entry.crc32.toString(16)}"`;
    res.setHeader('Content-Security-Policy', DOC_CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'public, max-age=60');
    res.setHeader('ETag', etag);
    if (req.headers['if-none-match'] === etag || req.method === 'HEAD') {
      entry.release();
      res.status(req.method === 'HEAD' ? 200 : 304);
      if (req.method === 'HEAD') {
        res.setHeader('Content-Type', entry.contentType);
        res.setHeader('Content-Length', entry.size);
      }
      res.end();
      return;
    }
    let stream: NodeJS.ReadableStream;
    try {
      stream = await entry.open();
    } catch (err) {
      entry.release();
      throw err;
    }
    res.setHeader('Content-Type', entry.contentType);
    res.setHeader('Content-Length', entry.size);
    stream.on('error', () => res.destroy());
    res.on('close', () => entry.release());
    stream.pipe(res);
  }, true));

  return Object.assign(router, {
    search,
    close: () => {
      search.close();
      zips.close();
    },
  });
}
