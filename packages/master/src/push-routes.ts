/**
 * Push of a release to another index of this server (devpi §1.11): `POST /{user}/{index}` — or
 * devpi-client's `PUSH` method, rewritten to POST at the connection (`push-method.ts`) — with a JSON
 * body naming `name`, `version` and `targetindex`; answers devpi's `actionlog`. Mounted after the
 * upload routes, which take the same URL for upload forms.
 */
import express, { type Router } from 'express';
import type { Changelog } from '@wheelhouse/changelog';
import { checkPushBody, handle, param, principalOf, pushRelease, requireIndex, validSegments, type Authenticator, type Principal } from '@wheelhouse/core';
import { jsonBody, sendWrite, type WriteAnswer } from './write-answer.js';

/** Dependencies of the push routes. */
export interface PushRoutesDeps {
  changelog: Changelog;
  auth: Authenticator;
}

/**
 * Pushes as `who` from `user/index` what `body` names: 200 `actionlog`; 400 bad body, 401 no upload
 * right on the target, 404 unknown source index, version or target, 409 conflicting file in a
 * non-volatile target.
 */
export async function push(deps: Pick<PushRoutesDeps, 'changelog'>, who: Principal, at: { user: string; index: string }, body: unknown): Promise<WriteAnswer> {
  const request = checkPushBody(body);
  requireIndex(deps.changelog, at.user, at.index);
  const { serial, result } = await deps.changelog.write((tx) => pushRelease(tx, `${at.user}/${at.index}`, request, who));
  return { status: 200, envelope: { type: 'actionlog', result }, serial };
}

/** Builds the push route (see module doc). */
export function pushRoutes(deps: PushRoutesDeps): Router {
  const router = express.Router();
  validSegments(router);
  router.post('/:user/:index{/}', jsonBody, handle(async (req, res) => {
    const who = await principalOf(deps.auth, req);
    await sendWrite(res, await push(deps, who, { user: param(req, 'user'), index: param(req, 'index') }, req.body));
  }));
  return router;
}
