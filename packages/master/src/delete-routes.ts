/**
 * Deletions inside an index (devpi §1.7–1.8): a file (`DELETE /{user}/{index}/+f/{path}`), a
 * project and a version. Allowed to the index's owner, root and its `acl_upload`; in a non-volatile
 * index only with `?force`.
 */
import express, { type Router } from 'express';
import type { Changelog } from '@wheelhouse/changelog';
import { deleteFile, deleteProject, deleteVersion, handle, normalizeProjectName, param, principalOf, validSegments, type Authenticator, type Principal } from '@wheelhouse/core';
import { requireDeleter } from './write-access.js';
import { sendWrite, type WriteAnswer } from './write-answer.js';

/** Dependencies of the delete routes. */
export interface DeleteRoutesDeps {
  changelog: Changelog;
  auth: Authenticator;
}

/** What to delete: an index, and in it a file path below `+f/`, or a project (raw name) and maybe a version. */
export interface DeleteTarget {
  user: string;
  index: string;
}

/** Deletes the file `{user}/{index}/+f/{path}` as `who`: 200; 403 no delete right (anonymous included) or non-volatile without `force`, 404 unknown. */
export async function removeFile(deps: Pick<DeleteRoutesDeps, 'changelog'>, who: Principal, at: DeleteTarget & { path: string }, force: boolean): Promise<WriteAnswer> {
  requireDeleter(deps.changelog, who, at.user, at.index);
  const entrypath = `${at.user}/${at.index}/+f/${at.path}`;
  const { serial } = await deps.changelog.write((tx) => deleteFile(tx, entrypath, force));
  return { status: 200, envelope: { message: `package '${entrypath}' deleted` }, serial };
}

/** Deletes a project (name normalised, PEP 503) from one index as `who`: 200; errors as {@link removeFile}. */
export async function removeProject(deps: Pick<DeleteRoutesDeps, 'changelog'>, who: Principal, at: DeleteTarget & { project: string }, force: boolean): Promise<WriteAnswer> {
  requireDeleter(deps.changelog, who, at.user, at.index);
  const project = normalizeProjectName(at.project);
  const stage = `${at.user}/${at.index}`;
  const { serial } = await deps.changelog.write((tx) => deleteProject(tx, stage, project, force));
  return { status: 200, envelope: { message: `project ${project} deleted from stage ${stage}` }, serial };
}

/** Deletes one version of a project from one index as `who`: 200; errors as {@link removeFile}. */
export async function removeVersion(
  deps: Pick<DeleteRoutesDeps, 'changelog'>,
  who: Principal,
  at: DeleteTarget & { project: string; version: string },
  force: boolean,
): Promise<WriteAnswer> {
  requireDeleter(deps.changelog, who, at.user, at.index);
  const project = normalizeProjectName(at.project);
  const { serial } = await deps.changelog.write((tx) => deleteVersion(tx, `${at.user}/${at.index}`, project, at.version, force));
  return { status: 200, envelope: { message: `project '${project}' version '${at.version}' deleted` }, serial };
}

/** Builds the delete routes (see module doc). */
export function deleteRoutes(deps: DeleteRoutesDeps): Router {
  const router = express.Router();
  validSegments(router);
  const who = (req: express.Request) => principalOf(deps.auth, req);
  const force = (req: express.Request): boolean => req.query['force'] !== undefined;
  const index = (req: express.Request): DeleteTarget => ({ user: param(req, 'user'), index: param(req, 'index') });
  router.delete('/:user/:index/\\+f/*rest', handle(async (req, res) => {
    await sendWrite(res, await removeFile(deps, await who(req), { ...index(req), path: param(req, 'rest') }, force(req)));
  }));
  router.delete('/:user/:index/:project{/}', handle(async (req, res) => {
    await sendWrite(res, await removeProject(deps, await who(req), { ...index(req), project: param(req, 'project') }, force(req)));
  }));
  router.delete('/:user/:index/:project/:version{/}', handle(async (req, res) => {
    await sendWrite(res, await removeVersion(deps, await who(req), { ...index(req), project: param(req, 'project'), version: param(req, 'version') }, force(req)));
  }));
  return router;
}
