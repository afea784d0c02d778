/**
 * JSON views of projects and versions over an index's resolution order (devpi §1.6):
 * `GET /{user}/{index}/{project}` (`projectconfig`: version → verdata; `?ignore_bases` for this
 * stage only) and `GET /{user}/{index}/{project}/{version}` (`versiondata`). A non-normalised
 * project name is redirected (302) to its PEP 503 form, as devpi does.
 */
import express, { type Request, type Response, type Router } from 'express';
import { BadRequestError, NotFoundError } from '../errors.js';
import { requireIndex } from '../model/indexes.js';
import { mergedReleases, projectExists } from '../model/releases.js';
import type { StateReader } from '../model/state.js';
import { normalizeProjectName } from '../names.js';
import { versionView } from './release-views.js';
import { sendJson } from '@wheelhouse/http';
import { outsideUrl } from './outside-url.js';
import { param, validSegments } from './routing.js';

/**
 * devpi's `projectconfig` result: each version (first stage that has it) as verdata under `base`.
 * NotFoundError (404) when no stage has the project (with `ignoreBases`: when `stage` has no version of it).
 */
export function projectConfig(state: StateReader, base: string, stage: string, project: string, ignoreBases: boolean): Record<string, unknown> {
  if (!projectExists(state, stage, project)) throw new NotFoundError(`no project '${project}'`);
  const result: Record<string, unknown> = {};
  for (const r of mergedReleases(state, stage, project, ignoreBases)) {
    result[r.version] = versionView(base, r.record, r.shadowing.map((s) => s.record));
  }
  if (ignoreBases && Object.keys(result).length === 0) throw new NotFoundError(`no project '${project}' in ${stage}`);
  return result;
}

/** devpi's `versiondata` result; NotFoundError (404) when no stage of the resolution order has the version. */
export function versionData(state: StateReader, base: string, stage: string, project: string, version: string): Record<string, unknown> {
  const found = mergedReleases(state, stage, project).find((r) => r.version === version);
  if (!found) throw new NotFoundError(`no version '${version}' of project '${project}' in ${stage}`);
  return versionView(base, found.record, found.shadowing.map((s) => s.record));
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
export function projectReadRoutes(deps: { state: StateReader; outsideUrl?: string }): Router {
  const { state } = deps;
  const router = express.Router();
  validSegments(router);

  router.get('/:user/:index/:project{/}', (req, res) => {
    const u = param(req, 'user');
    const i = param(req, 'index');
    requireIndex(state, u, i);
    const project = canonicalProject(req, res);
    if (project === undefined) return;
    const result = projectConfig(state, outsideUrl(req, deps.outsideUrl), `${u}/${i}`, project, req.query['ignore_bases'] !== undefined);
    sendJson(res, 200, { type: 'projectconfig', result });
  });

  router.get('/:user/:index/:project/:version{/}', (req, res) => {
    const u = param(req, 'user');
    const i = param(req, 'index');
    requireIndex(state, u, i);
    const project = canonicalProject(req, res);
    if (project === undefined) return;
    const result = versionData(state, outsideUrl(req, deps.outsideUrl), `${u}/${i}`, project, param(req, 'version'));
    sendJson(res, 200, { type: 'versiondata', result });
  });
  return router;
}
