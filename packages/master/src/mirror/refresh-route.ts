/**
 * devpi's refresh of a project's mirrored page: `POST /{user}/{index}/+simple/{project}/refresh`
 * (what `devpi refresh PKG` and the refresh button of devpi-web send) asks upstream again, now,
 * for every mirror of the index's resolution order that may serve the project (a name held by a
 * private stage is not sent upstream), then redirects (302) to the project's simple page.
 */
import express, { type Router } from 'express';
import type { Changelog } from '@wheelhouse/changelog';
import { assertMayRead, handle, mayRead, mirrorPolicy, normalizeProjectName, param, principalOf, requireIndex, validSegments, type Authenticator } from '@wheelhouse/core';
import type { MirrorService } from './mirror-service.js';

/**
 * Builds the refresh router (see module doc); anyone who may read the index may refresh, as in
 * devpi (everyone, unless `acl_read` restricts it: then 401/403 as for a read, given `auth`).
 */
export function createRefreshRoute(changelog: Changelog, mirrors: Pick<MirrorService, 'refresh'>, auth?: Authenticator): Router {
  const router = express.Router();
  validSegments(router);
  router.post('/:user/:index/\\+simple/:project/refresh', handle(async (req, res) => {
    const user = param(req, 'user');
    const index = param(req, 'index');
    requireIndex(changelog, user, index);
    const stage = `${user}/${index}`;
    if (auth && !mayRead(changelog, stage, undefined)) assertMayRead(changelog, stage, await principalOf(auth, req));
    const project = normalizeProjectName(param(req, 'project'));
    const policy = mirrorPolicy(changelog, stage, project);
    if (policy.allowed) await Promise.all(policy.mirrors.map((m) => mirrors.refresh(m, project)));
    res.redirect(302, `/${stage}/+simple/${project}/`);
  }));
  return router;
}
