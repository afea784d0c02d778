/**
 * JSON views of projects and versions over an index's resolution order (devpi §1.6):
 * `GET /{user}/{index}/{project}` (`projectconfig`: version → verdata; `?ignore_bases` for this
 * stage only) and `GET /{user}/{index}/{project}/{version}` (`versiondata`). A non-normalised
 * project name is redirected (302) to its PEP 503 form, as devpi does. Versions only the mirrors of
 * the resolution order have (`devpi list PKG` on a mirror, or a stage inheriting one) are included
 * as devpi does: their upstream pages are made usable first (`mirror-views.ts`).
 */
import express, { type Request, type Response, type Router } from 'express';
import { BadGatewayError, BadRequestError, NotFoundError } from '../errors.js';
import { requireIndex } from '../model/indexes.js';
import { mergedReleases, projectExists } from '../model/releases.js';
import type { StateReader } from '../model/state.js';
import { stagePath } from '../model/stage-paths.js';
import { normalizeProjectName } from '../names.js';
import { versionView } from './release-views.js';
import { sendJson } from '@wheelhouse/http';
import { outsideUrl } from './outside-url.js';
import { handle, param, validSegments } from './routing.js';
import type { MirrorAccess } from './mirror-access.js';
import { JsonViews } from './json-views.js';
import { mirrorVersionViews, prepareMirrorPages, type MirrorVersionViews } from './mirror-views.js';

/**
 * devpi's `projectconfig` result: each version (first stage that has it) as verdata under `base`,
 * then the versions only `mirrored` has (none with `ignoreBases`). NotFoundError (404) when no stage
 * has the project and no mirror knows it (with `ignoreBases`: when `stage` has no version of it).
 */
export function projectConfig(
  state: StateReader,
  base: string,
  stage: string,
  project: string,
  ignoreBases: boolean,
  mirrored?: MirrorVersionViews,
): Record<string, unknown> {
  if (!projectExists(state, stage, project) && !mirrored?.known) throw new NotFoundError(`no project '${project}'`);
  const result: Record<string, unknown> = {};
  for (const r of mergedReleases(state, stage, project, ignoreBases)) {
    result[r.version] = versionView(base, r.record, r.shadowing.map((s) => s.record));
  }
  if (!ignoreBases) for (const [version, view] of mirrored?.versions ?? []) if (!(version in result)) result[version] = view;
  if (ignoreBases && Object.keys(result).length === 0) throw new NotFoundError(`no project '${project}' in ${stage}`);
  return result;
}

/** devpi's `versiondata` result (a stage's, else `mirrored`'s); NotFoundError (404) when no stage of the resolution order has the version. */
export function versionData(state: StateReader, base: string, stage: string, project: string, version: string, mirrored?: MirrorVersionViews): Record<string, unknown> {
  const found = mergedReleases(state, stage, project).find((r) => r.version === version);
  if (found) return versionView(base, found.record, found.shadowing.map((s) => s.record));
  const view = mirrored?.versions.get(version);
  if (!view) throw new NotFoundError(`no version '${version}' of project '${project}' in ${stage}`);
  return view;
}

/**
 * The mirrored versions of `project` for `stage` after its mirrors' pages were made usable;
 * BadGatewayError (502) when neither a stage nor a cached page has the project and upstream failed.
 */
async function mirroredVersions(state: StateReader, mirrors: MirrorAccess | undefined, base: string, stage: string, project: string): Promise<MirrorVersionViews> {
  const outcomes = await prepareMirrorPages(state, mirrors, stage, project);
  const mirrored = mirrorVersionViews(state, stage, project, base);
  const error = outcomes.find((o) => o.error)?.error;
  if (error && !mirrored.known && !projectExists(state, stage, project)) throw new BadGatewayError(error);
  return mirrored;
}

/** Redirects a non-normalised project name to the normalised URL (302), as devpi; 400 for a name that is not printable ASCII. */
function canonicalProject(req: Request, res: Response): string | undefined {
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
}

/** Builds the project read routes (see module doc). */
export function projectReadRoutes(deps: { state: StateReader & { readonly head: number }; outsideUrl?: string; mirrors?: MirrorAccess }): Router {
  const { state } = deps;
  const views = new JsonViews(state);
  const router = express.Router();
  validSegments(router);

  /** The index (404 when missing), the canonical project (undefined once redirected) and the outside URL of a request. */
  const projectTarget = (req: Request, res: Response): { base: string; stage: string; project: string } | undefined => {
    const u = param(req, 'user');
    const i = param(req, 'index');
    requireIndex(state, u, i);
    const project = canonicalProject(req, res);
    if (project === undefined) return undefined;
    return { base: outsideUrl(req, deps.outsideUrl), stage: stagePath(u, i), project };
  };

  router.get('/:user/:index/:project{/}', handle(async (req, res) => {
    const at = projectTarget(req, res);
    if (!at) return;
    const { base, stage, project } = at;
    const ignoreBases = req.query['ignore_bases'] !== undefined;
    const mirrored = ignoreBases ? undefined : await mirroredVersions(state, deps.mirrors, base, stage, project);
    views.send(req, res, `${req.originalUrl}\0${base}`, () => ({ type: 'projectconfig', result: projectConfig(state, base, stage, project, ignoreBases, mirrored) }));
  }));

  router.get('/:user/:index/:project/:version{/}', handle(async (req, res) => {
    const at = projectTarget(req, res);
    if (!at) return;
    const { base, stage, project } = at;
    const version = param(req, 'version');
    const own = mergedReleases(state, stage, project).some((r) => r.version === version);
    const mirrored = own ? undefined : await mirroredVersions(state, deps.mirrors, base, stage, project);
    sendJson(res, 200, { type: 'versiondata', result: versionData(state, base, stage, project, version, mirrored) });
  }));
  return router;
}
