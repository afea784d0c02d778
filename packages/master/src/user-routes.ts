/**
 * Login and users (devpi §1.3–1.4): `POST /+login` (a login token for user and password, valid
 * 36,000 s), `PUT /{user}` (create: 201; anyone may register, as in devpi), `PATCH /{user}` (change
 * profile or password: the user or root; a new password answers a new token) and `DELETE /{user}`
 * (the user or root; refused for root and for users with a non-volatile index).
 */
import express, { type Router } from 'express';
import type { Changelog } from '@wheelhouse/changelog';
import {
  BadRequestError,
  UnauthorizedError,
  checkUserCreateBody,
  checkUserPatchBody,
  compileChecker,
  createUser,
  deleteUser,
  handle,
  hashPassword,
  modifyUser,
  param,
  principalOf,
  requireUser,
  userView,
  validSegments,
  LOGIN_EXPIRATION_SECONDS,
  type Authenticator,
} from '@wheelhouse/core';
import { requireRootOrSelf } from './write-access.js';
import { jsonBody, sendWrite, type WriteAnswer } from './write-answer.js';

/** Dependencies of the user routes. */
export interface UserRoutesDeps {
  changelog: Changelog;
  auth: Authenticator;
}

const checkLoginBody = compileChecker<{ user: string; password: string }>(
  {
    type: 'object',
    required: ['user', 'password'],
    properties: { user: { type: 'string' }, password: { type: 'string' } },
    additionalProperties: false,
  },
  'Bad request: no user/password specified',
);

/** `POST /+login`: 200 `proxyauth` with a token; 400 without user/password, 401 wrong credentials. */
export async function login(deps: UserRoutesDeps, body: unknown): Promise<WriteAnswer> {
  const creds = checkLoginBody(body);
  const user = await deps.auth.check({ user: creds.user, secret: creds.password });
  if (!user) throw new UnauthorizedError(`user '${creds.user}' could not be authenticated`);
  return {
    status: 200,
    envelope: { type: 'proxyauth', result: { password: deps.auth.tokens.issue(user), expiration: LOGIN_EXPIRATION_SECONDS }, message: 'login successful' },
    serial: null,
  };
}

/** `PUT /{user}`: 201 `userconfig`; 400 without password (or hash) or with unknown keys, 409 exists. */
export async function putUser(deps: Pick<UserRoutesDeps, 'changelog'>, user: string, body: unknown): Promise<WriteAnswer> {
  const input = checkUserCreateBody(body);
  if (input.password === undefined && input.pwhash === undefined) throw new BadRequestError('password needs to be set');
  const { password, ...fields } = input;
  const pwhash = password !== undefined ? await hashPassword(password) : input.pwhash;
  const { serial } = await deps.changelog.write((tx) => createUser(tx, user, { ...fields, ...(pwhash ? { pwhash } : {}) }));
  return { status: 201, envelope: { type: 'userconfig', result: userView(deps.changelog, user) }, serial };
}

/** `PATCH /{user}` by `who`: 200; 404 unknown user (checked first), 403 not the user or root, 400 bad body. */
export async function patchUser(deps: UserRoutesDeps, who: string | undefined, user: string, body: unknown): Promise<WriteAnswer> {
  requireUser(deps.changelog, user); // 404 before 403, as devpi
  requireRootOrSelf(who, user);
  const { password, indexes: _i, username: _u, created: _c, modified: _m, ...fields } = checkUserPatchBody(body);
  // an empty string is a password too (devpi: `devpi-init` leaves root's password empty, and
  // `PATCH /root {"password": ""}` sets it back to that)
  const pwhash = password !== undefined ? await hashPassword(password) : fields.pwhash;
  const { serial } = await deps.changelog.write((tx) => modifyUser(tx, user, { ...fields, ...(pwhash ? { pwhash } : {}) }));
  if (password === undefined) return { status: 200, envelope: { message: 'user updated' }, serial };
  return {
    status: 200,
    envelope: { type: 'userpassword', result: { password: deps.auth.tokens.issue(user), expiration: LOGIN_EXPIRATION_SECONDS }, message: 'user updated, new proxy auth' },
    serial,
  };
}

/** `DELETE /{user}` by `who`: 200; 403 not the user or root, 404 unknown, 403 for root or a user with a non-volatile index. */
export async function removeUser(deps: Pick<UserRoutesDeps, 'changelog'>, who: string | undefined, user: string): Promise<WriteAnswer> {
  requireRootOrSelf(who, user);
  const { serial } = await deps.changelog.write((tx) => deleteUser(tx, user));
  return { status: 200, envelope: { message: `user '${user}' deleted` }, serial };
}

/** Builds the login and user routes (see module doc). */
export function userRoutes(deps: UserRoutesDeps): Router {
  const router = express.Router();
  validSegments(router);
  router.post('/\\+login', jsonBody, handle(async (req, res) => sendWrite(res, await login(deps, req.body))));
  router.put('/:user{/}', jsonBody, handle(async (req, res) => sendWrite(res, await putUser(deps, param(req, 'user'), req.body))));
  router.patch('/:user{/}', jsonBody, handle(async (req, res) => {
    sendWrite(res, await patchUser(deps, await principalOf(deps.auth, req), param(req, 'user'), req.body));
  }));
  router.delete('/:user{/}', handle(async (req, res) => {
    sendWrite(res, await removeUser(deps, await principalOf(deps.auth, req), param(req, 'user')));
  }));
  return router;
}
