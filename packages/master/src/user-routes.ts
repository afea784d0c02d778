/**
 * Login and users (devpi §1.3–1.4): `POST /+login` (a login token for user and password, valid
 * 36,000 s), `PUT /{user}` (create: 201; anyone may register, as in devpi, unless the master's
 * `restrict-user-creation` setting keeps it to root), `PATCH /{user}` (change
 * profile or password: the user or root; a new password answers a new token) and `DELETE /{user}`
 * (the user or root; refused for root and for users with a non-volatile index).
 */
import express, { type Router } from 'express';
import type { Changelog } from '@wheelhouse/changelog';
import {
  BadRequestError,
  ForbiddenError,
  UnauthorizedError,
  checkUserCreateBody,
  checkUserPatchBody,
  clientAddress,
  compileChecker,
  createUser,
  deleteUser,
  handle,
  hashPassword,
  modifyUser,
  param,
  principalName,
  principalOf,
  requireUser,
  userView,
  validSegments,
  LOGIN_EXPIRATION_SECONDS,
  type Authenticator,
} from '@wheelhouse/core';
import { requireRootOrSelf } from './write-access.js';
import { jsonBody, sendAnswer, sendWrite, type WriteAnswer } from './write-answer.js';

/** Dependencies of the user routes. */
export interface UserRoutesDeps {
  changelog: Changelog;
  auth: Authenticator;
  /** Only root may create users (devpi's `--restrict-modify` idea); default anyone may register. */
  restrictUserCreation?: boolean;
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

/**
 * `POST /+login` from the client at `address` (`clientAddress`): 200 `proxyauth` with a token bound
 * to the account's identity and password generation (an LDAP directory user's token carries its
 * groups instead, `Authenticator.issueToken`); 503 when the directory must check the password and
 * cannot be reached; 400 without user/password, 401 wrong
 * credentials, 429 with `Retry-After` after repeated wrong passwords (`LoginThrottle`).
 */
export async function login(deps: UserRoutesDeps, body: unknown, address = ''): Promise<WriteAnswer> {
  const creds = checkLoginBody(body);
  const { user, failure } = await deps.auth.authenticate({ user: creds.user, secret: creds.password }, address);
  if (!user) throw new UnauthorizedError(failure ?? `user '${creds.user}' could not be authenticated`);
  return {
    status: 200,
    envelope: { type: 'proxyauth', result: { password: deps.auth.issueToken(user), expiration: LOGIN_EXPIRATION_SECONDS }, message: 'login successful' },
    serial: null,
  };
}

/**
 * `PUT /{user}` by `who`: 201 `userconfig`; 400 without password (or hash), with unknown keys or a
 * field over its limit, 409 exists. With `restrictUserCreation` only root may: 401 anonymous, 403 others.
 */
export async function putUser(deps: Pick<UserRoutesDeps, 'changelog' | 'restrictUserCreation'>, user: string, body: unknown, who?: string): Promise<WriteAnswer> {
  if (deps.restrictUserCreation) {
    if (who === undefined) throw new UnauthorizedError('authentication required: only root may create users on this server');
    if (who !== 'root') throw new ForbiddenError(`user '${who}' may not create users: only root may on this server`);
  }
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
    envelope: { type: 'userpassword', result: { password: deps.auth.issueToken(user), expiration: LOGIN_EXPIRATION_SECONDS }, message: 'user updated, new proxy auth' },
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
  router.post('/\\+login', jsonBody, handle(async (req, res) => {
    sendAnswer(res, await login(deps, req.body, clientAddress(req.headers, req.socket.remoteAddress)));
  }));
  router.put('/:user{/}', jsonBody, handle(async (req, res) => {
    await sendWrite(res, await putUser(deps, param(req, 'user'), req.body, principalName(await principalOf(deps.auth, req))));
  }));
  router.patch('/:user{/}', jsonBody, handle(async (req, res) => {
    await sendWrite(res, await patchUser(deps, principalName(await principalOf(deps.auth, req)), param(req, 'user'), req.body));
  }));
  router.delete('/:user{/}', handle(async (req, res) => {
    await sendWrite(res, await removeUser(deps, principalName(await principalOf(deps.auth, req)), param(req, 'user')));
  }));
  return router;
}
