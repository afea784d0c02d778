/**
 * The web interface every node serves (master and replicas, also with the master down): HTML pages
 * at devpi's URLs on content negotiation — only when the request accepts `text/html`, as browsers
 * send; API clients (devpi-client sends `Accept: application/json`) fall through to the JSON read
 * API mounted after this router — plus `/+search`, `/+status` for people, documentation at
 * `/{user}/{index}/{project}/{version}/+doc/{path}` and the stylesheet. The router only maps routes
 * to the page handlers (`*-handler.ts`, `listing-handlers.ts`) and writes their answers
 * (`page-response.ts`).
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { WheelhouseError } from '../errors.js';
import { handle, param, principalOf, validSegments } from '../http/routing.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { ReadAccess } from '../model/read-access.js';
import { sendJson, statusOf } from '@wheelhouse/http';
import { outsideUrl } from '../http/outside-url.js';
import type { PageSource } from '../http/simple-pages.js';
import { docHandler } from './doc-handler.js';
import { DocZips, type DocBlobs } from './doc-zips.js';
import type { PageContext } from './layout.js';
import { indexHandler, projectHandler, rootHandler, userHandler } from './listing-handlers.js';
import type { PageRequest, PageResult } from './page-result.js';
import { errorPageSpec, sendDocEntry, sendPage, wantsHtml } from './page-response.js';
import { SearchIndex } from './search-index.js';
import { searchHandler } from './search-handler.js';
import { statusHandler } from './status-handler.js';
import { STYLESHEET, STYLESHEET_PATH } from './style.js';
import { versionHandler } from './version-handler.js';

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
  /** who may read which index: search hits of the others are left out (absent: every index is readable) */
  readers?: { access: ReadAccess; auth: Authenticator };
}

/** The router plus what it owns: the search index (`flush()` for tests) and `close()` for both it and the open doc zips. */
export type WebRouter = Router & { search: SearchIndex; close(): void };

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
  const facts = (req: Request): PageRequest => ({ base: context(req).base, originalUrl: req.originalUrl });

  /** Writes a handler's answer; `pass` goes on to the next router. */
  const answer = (req: Request, res: Response, next: NextFunction, result: PageResult): void => {
    if (result.kind === 'pass') return next();
    if (result.kind === 'redirect') return res.redirect(302, result.location);
    sendPage(req, res, context(req), result.spec, result.status);
  };

  /** Runs `fn` for an HTML route: only for requests that want HTML (else the next router, unless `always`); typed errors become an HTML error page. */
  const page = (fn: (req: Request, res: Response, next: NextFunction) => unknown, always = false) =>
    (req: Request, res: Response, next: NextFunction): void => {
      if (!always && !wantsHtml(req)) return next();
      Promise.resolve()
        .then(() => fn(req, res, next))
        .catch((err: unknown) => {
          if (!(err instanceof WheelhouseError) || res.headersSent) return next(err);
          sendPage(req, res, context(req), errorPageSpec(context(req).base, err), statusOf(err));
        });
    };
  /** An HTML route whose handler answers a {@link PageResult}. */
  const route = (fn: (req: Request) => PageResult | Promise<PageResult>) =>
    page(async (req, res, next) => answer(req, res, next, await fn(req)));

  router.get('/\\+static/:file', (req, res, next) => {
    if (`/+static/${param(req, 'file')}` !== STYLESHEET_PATH) return next();
    res.setHeader('Content-Type', 'text/css; charset=utf-8');
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.setHeader('Content-Length', Buffer.byteLength(STYLESHEET));
    res.end(req.method === 'HEAD' ? undefined : STYLESHEET);
  });

  router.get('/\\+search', handle(async (req, res) => {
    const json = !wantsHtml(req) && /application\/json/.test(req.headers.accept ?? '');
    let visible: ((stage: string) => boolean) | undefined;
    if (deps.readers) {
      const { access, auth } = deps.readers;
      const principal = await principalOf(auth, req);
      visible = (stage) => access.mayRead(stage, principal);
    }
    const result = searchHandler(search, firstQuery(req, 'query') || firstQuery(req, 'q'), json, facts(req), visible);
    if (result.kind === 'json') sendJson(res, 200, result.envelope);
    else answer(req, res, () => undefined, result);
  }));

  router.get('/\\+status', route((req) => statusHandler(deps.status(), facts(req))));
  router.get('/', route((req) => rootHandler(state, facts(req))));
  router.get('/:user{/}', route((req) => userHandler(state, { user: param(req, 'user') }, facts(req))));
  router.get('/:user/:index{/}', route((req) =>
    indexHandler(state, { user: param(req, 'user'), index: param(req, 'index'), page: firstQuery(req, 'page') }, facts(req))));
  router.get('/:user/:index/:project{/}', route((req) =>
    projectHandler(state, { user: param(req, 'user'), index: param(req, 'index'), project: param(req, 'project') }, facts(req))));
  router.get('/:user/:index/:project/:version{/}', route((req) =>
    versionHandler(deps, { user: param(req, 'user'), index: param(req, 'index'), project: param(req, 'project'), version: param(req, 'version') }, facts(req))));

  router.get('/:user/:index/:project/:version/\\+doc{/*path}', page(async (req, res) => {
    const params = { user: param(req, 'user'), index: param(req, 'index'), project: param(req, 'project'), version: param(req, 'version') };
    const result = await docHandler({ state, zips }, params, { originalUrl: req.originalUrl, path: req.path });
    if (result.kind === 'redirect') res.redirect(302, result.location);
    else await sendDocEntry(req, res, result.entry, result.etag);
  }, true));

  return Object.assign(router, {
    search,
    close: () => {
      search.close();
      zips.close();
    },
  });
}
