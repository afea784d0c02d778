/**
 * Index configuration (devpi §1.5): `PUT /{user}/{index}` creates a stage (default) or mirror
 * index, `PATCH` changes it (a JSON object, devpi's own `indexconfig` envelope, or devpi-client's
 * `key=value` / `key+=value` / `key-=value` list; `?error_on_noop` refuses a change that changes
 * nothing), `DELETE` removes a volatile index with everything in it (201, as devpi). All three:
 * the user or root only.
 */
import express, { type Router } from 'express';
import type { Changelog } from '@wheelhouse/changelog';
import {
  checkIndexConfigInput,
  checkIndexConfigOps,
  createIndex,
  deleteIndex,
  handle,
  modifyIndex,
  param,
  principalName,
  principalOf,
  requireUser,
  validSegments,
  type Authenticator,
} from '@wheelhouse/core';
import { requireRootOrSelf } from './write-access.js';
import { jsonBody, sendWrite, type WriteAnswer } from './write-answer.js';

/** Dependencies of the index routes. */
export interface IndexRoutesDeps {
  changelog: Changelog;
  auth: Authenticator;
}

/** An index named by its route: `user/index`. */
export interface IndexName {
  user: string;
  index: string;
}

/** `PUT /{user}/{index}` by `who`: 200 `indexconfig`; 404 unknown user (checked first), 403 not the user or root, 409 exists. */
export async function putIndex(deps: Pick<IndexRoutesDeps, 'changelog'>, who: string | undefined, at: IndexName, body: unknown): Promise<WriteAnswer> {
  requireUser(deps.changelog, at.user); // 404 before 403, as devpi (a missing or deleted user)
  requireRootOrSelf(who, at.user);
  const input = checkIndexConfigInput(body ?? {});
  const { serial, result } = await deps.changelog.write((tx) => createIndex(tx, at.user, at.index, input));
  return { status: 200, envelope: { type: 'indexconfig', result }, serial };
}

/** `PATCH /{user}/{index}` by `who`: 200 `indexconfig`; 403 not the user or root, 400 bad change (or no change with `errorOnNoop`), 404 unknown. */
export async function patchIndex(
  deps: Pick<IndexRoutesDeps, 'changelog'>,
  who: string | undefined,
  at: IndexName,
  body: unknown,
  errorOnNoop: boolean,
): Promise<WriteAnswer> {
  requireRootOrSelf(who, at.user);
  if (body && typeof body === 'object' && !Array.isArray(body) && (body as { type?: unknown }).type === 'indexconfig' && 'result' in body) {
    body = (body as { result: unknown }).result; // devpi also accepts its own envelope
  }
  const change = Array.isArray(body) ? checkIndexConfigOps(body) : checkIndexConfigInput(body ?? {});
  const { serial, result } = await deps.changelog.write((tx) => modifyIndex(tx, at.user, at.index, change, errorOnNoop));
  return { status: 200, envelope: { type: 'indexconfig', result }, serial };
}

/** `DELETE /{user}/{index}` by `who`: 201; 403 not the user or root or non-volatile, 404 unknown. */
export async function removeIndex(deps: Pick<IndexRoutesDeps, 'changelog'>, who: string | undefined, at: IndexName): Promise<WriteAnswer> {
  requireRootOrSelf(who, at.user);
  const { serial } = await deps.changelog.write((tx) => deleteIndex(tx, at.user, at.index));
  return { status: 201, envelope: { message: `index ${at.user}/${at.index} deleted` }, serial };
}

/** Builds the index routes (see module doc). */
export function indexRoutes(deps: IndexRoutesDeps): Router {
  const router = express.Router();
  validSegments(router);
  const at = (req: express.Request): IndexName => ({ user: param(req, 'user'), index: param(req, 'index') });
  router.put('/:user/:index{/}', jsonBody, handle(async (req, res) => {
    await sendWrite(res, await putIndex(deps, principalName(await principalOf(deps.auth, req)), at(req), req.body));
  }));
  router.patch('/:user/:index{/}', jsonBody, handle(async (req, res) => {
    await sendWrite(res, await patchIndex(deps, principalName(await principalOf(deps.auth, req)), at(req), req.body, req.query['error_on_noop'] !== undefined));
  }));
  router.delete('/:user/:index{/}', handle(async (req, res) => {
    await sendWrite(res, await removeIndex(deps, principalName(await principalOf(deps.auth, req)), at(req)));
  }));
  return router;
}
