/**
 * The read half of devpi's HTTP API as an express router any node mounts (master and replica):
 * `/+api`, `/+status`, users (`/`, `/{user}`), index config (`/{user}/{index}`, or its PEP 691
 * project list), project and version JSON with `+links`, and release file metadata. Reads answer
 * from this node's own state only.
 */
import express, { type Request, type Response, type NextFunction, type Router } from 'express';
import { BadRequestError, NotFoundError } from '../errors.js';
import { indexView, requireIndex } from '../model/indexes.js';
import type { FileEntry, ReleaseLink, ReleaseRecord } from '../model/records.js';
import { keys } from '../model/keys.js';
import { mergedReleases, projectExists } from '../model/releases.js';
import { explainProject } from '../model/mirrors.js';
import { listUserNames, requireUser, userView } from '../model/users.js';
import { isValidUserOrIndexName, normalizeProjectName } from '../names.js';
import type { Authenticator } from '../auth/authenticator.js';
import { requestContext } from './request-log.js';
import { negotiateSimple } from './negotiate.js';
import type { PageSource, SimplePages } from './simple-pages.js';
import { encodePath } from './simple-pages.js';
import { outsideUrl, sendJson } from './respond.js';
import type { NodeMetrics } from './metrics.js';

/** Features announced in `/+api` (devpi's names; `server-keyvalue-parsing` enables the PATCH list form). */
export const API_FEATURES = ['push-no-docs', 'push-only-docs', 'server-keyvalue-parsing'];

/** Dependencies of the read API. */
export interface ReadApiDeps {
  state: PageSource;
  pages: SimplePages;
  auth: Authenticator;
  /** The `/+status` result object of this node. */
  status: () => Record<string, unknown>;
  /** Configured outside URL (else taken from the request). */
  outsideUrl?: string;
  /** Readiness for `/+ready` (a proxy routes on it): a replica is ready once in sync. Default: ready. */
  ready?: () => { ready: boolean; reason?: string };
  /** Serves `/+metrics`. */
  metrics?: NodeMetrics;
}

/** Wraps an async handler so its rejection reaches the error handler. */
export function handle(fn: (req: Request, res: Response) => unknown | Promise<unknown>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    Promise.resolve()
      .then(() => fn(req, res))
      .catch(next);
  };
}

/** Route parameter as a string (express 5 gives string or string[]). */
export function param(req: Request, name: string): string {
  const v = (req.params as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(v) ? v.join('/') : (v ?? '');
}

/** Rejects user/index segments that are reserved (`+…`) or invalid, so the route does not match. */
export function validSegments(router: Router): void {
  for (const name of ['user', 'index']) {
    router.param(name, (_req, _res, next, value: string) => {
      if (!isValidUserOrIndexName(value) || value.startsWith('+')) next('route');
      else next();
    });
  }
}

/** Resolves the authenticated user once per request (stored in the request context). */
export async function principalOf(auth: Authenticator, req: Request): Promise<string | undefined> {
  const ctx = requestContext(req);
  if (!ctx.resolved) {
    const user = await auth.principal(req.headers);
    if (user !== undefined) ctx.user = user;
    ctx.resolved = true;
  }
  return ctx.user;
}

/** devpi's `+links` entry for a link, with absolute hrefs under `base`. */
export function linkView(base: string, link: ReleaseLink): Record<string, unknown> {
  const out: Record<string, unknown> = {
    rel: link.rel,
    href: `${base}/${encodePath(link.entrypath)}`,
    hash_spec: `sha256=${link.sha256}`,
    hashes: { sha256: link.sha256 },
    size: link.size,
    log: link.log,
  };
  if (link.for_entrypath) out['for_href'] = `${base}/${encodePath(link.for_entrypath)}`;
  return out;
}

/** devpi's `verdata`: metadata plus `+links` (and `+shadowing` when later stages have the version). */
export function versionView(base: string, record: ReleaseRecord, shadowing: ReleaseRecord[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = { ...record.metadata, '+links': record.links.map((l) => linkView(base, l)) };
  if (shadowing.length) out['+shadowing'] = shadowing.map((r) => versionView(base, r));
  return out;
}

/** Builds the read router (see module doc). */
export function createReadApi(deps: ReadApiDeps): Router {
  const { state, auth } = deps;
  const router = express.Router();
  validSegments(router);
  const base = (req: Request): string => outsideUrl(req, deps.outsideUrl);

  const api = handle(async (req, res) => {
    const user = await principalOf(auth, req);
    const b = base(req);
    const result: Record<string, unknown> = {
      login: `${b}/+login`,
      authstatus: user ? ['ok', user, []] : ['noauth', '', []],
      features: API_FEATURES,
    };
    const u = param(req, 'user');
    const i = param(req, 'index');
    if (u && i) {
      requireIndex(state, u, i);
      result['index'] = `${b}/${u}/${i}`;
      result['simpleindex'] = `${b}/${u}/${i}/+simple/`;
      result['pypisubmit'] = `${b}/${u}/${i}/`;
    }
    sendJson(res, 200, { type: 'apiconfig', result });
  });
  router.get('/\\+api', api);
  router.get('/:user/\\+api', api);
  router.get('/:user/:index/\\+api', api);

  router.get('/\\+status', (_req, res) => sendJson(res, 200, { type: 'status', result: deps.status() }));
  router.get('/\\+metrics', handle(async (req, res) => {
    if (!deps.metrics) throw new NotFoundError('no metrics on this node');
    await deps.metrics.send(req, res);
  }));
  router.get('/\\+ready', (_req, res) => {
    const r = deps.ready?.() ?? { ready: true };
    sendJson(res, r.ready ? 200 : 503, { type: 'readiness', result: r, ...(r.reason ? { message: r.reason } : {}) });
  });

  router.get('/', (_req, res) => {
    const result: Record<string, unknown> = {};
    for (const name of listUserNames(state)) result[name] = userView(state, name);
    sendJson(res, 200, { type: 'list:userconfig', result });
  });

  router.get('/:user{/}', (req, res) => {
    sendJson(res, 200, { type: 'userconfig', result: userView(state, param(req, 'user')) });
  });

  router.get('/:user/:index{/}', (req, res) => {
    const u = param(req, 'user');
    const i = param(req, 'index');
    requireUser(state, u);
    const accept = req.headers.accept ?? '';
    if (accept.includes('application/vnd.pypi.simple')) {
      const neg = negotiateSimple(accept);
      requireIndex(state, u, i);
      const page = deps.pages.indexPage(`${u}/${i}`, neg?.format ?? 'json');
      res.setHeader('Content-Type', neg?.type ?? 'application/vnd.pypi.simple.v1+json');
      res.setHeader('Vary', 'Accept');
      res.end(page.body);
      return;
    }
    sendJson(res, 200, { type: 'indexconfig', result: indexView(state, u, i, req.query['no_projects'] !== undefined) });
  });

  // which stage each link of a project's simple page comes from, and why a mirror was skipped
  router.get('/:user/:index/\\+explain/:project', (req, res) => {
    const u = param(req, 'user');
    const i = param(req, 'index');
    requireIndex(state, u, i);
    sendJson(res, 200, { type: 'explain', result: explainProject(state, `${u}/${i}`, param(req, 'project')) });
  });

  router.get('/:user/:index/\\+f/*rest', (req, res) => {
    const entrypath = `${param(req, 'user')}/${param(req, 'index')}/+f/${param(req, 'rest')}`;
    const entry = state.get<FileEntry>(keys.file(entrypath));
    if (!entry) throw new NotFoundError(`no such file ${entrypath}`);
    sendJson(res, 200, {
      type: 'releasefilemeta',
      result: {
        hash_spec: `sha256=${entry.sha256}`,
        hashes: { sha256: entry.sha256 },
        last_modified: new Date(entry.modified).toUTCString(),
        project: entry.project,
        version: entry.version,
        size: entry.size,
      },
    });
  });

  /** Redirects a non-normalised project name to the normalised URL (302), as devpi. */
  const canonicalProject = (req: Request, res: Response): string | undefined => {
    const raw = param(req, 'project');
    if (!/^[\x20-\x7e]+$/.test(raw)) throw new BadRequestError(`invalid project name '${raw}'`);
    const project = normalizeProjectName(raw);
    if (project !== raw) {
      const rest = req.originalUrl.split('?');
      const path = rest[0]!.replace(`/${encodeURIComponent(raw)}`, `/${project}`).replace(`/${raw}`, `/${project}`);
      res.redirect(302, path + (rest[1] ? `?${rest[1]}` : ''));
      return undefined;
    }
    return project;
  };

  router.get('/:user/:index/:project{/}', (req, res) => {
    const u = param(req, 'user');
    const i = param(req, 'index');
    requireIndex(state, u, i);
    const project = canonicalProject(req, res);
    if (project === undefined) return;
    const stage = `${u}/${i}`;
    const ignoreBases = req.query['ignore_bases'] !== undefined;
    if (!projectExists(state, stage, project)) throw new NotFoundError(`no project '${project}'`);
    const result: Record<string, unknown> = {};
    const b = base(req);
    for (const r of mergedReleases(state, stage, project, ignoreBases)) {
      result[r.version] = versionView(b, r.record, r.shadowing.map((s) => s.record));
    }
    if (ignoreBases && Object.keys(result).length === 0) throw new NotFoundError(`no project '${project}' in ${stage}`);
    sendJson(res, 200, { type: 'projectconfig', result });
  });

  router.get('/:user/:index/:project/:version{/}', (req, res) => {
    const u = param(req, 'user');
    const i = param(req, 'index');
    requireIndex(state, u, i);
    const project = canonicalProject(req, res);
    if (project === undefined) return;
    const version = param(req, 'version');
    const found = mergedReleases(state, `${u}/${i}`, project).find((r) => r.version === version);
    if (!found) throw new NotFoundError(`no version '${version}' of project '${project}' in ${u}/${i}`);
    sendJson(res, 200, { type: 'versiondata', result: versionView(base(req), found.record, found.shadowing.map((s) => s.record)) });
  });

  return router;
}
