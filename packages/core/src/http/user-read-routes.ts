/**
 * JSON views of users (devpi §1.4): `GET /` (every user's `userconfig` without its large fields —
 * `description`, `custom_data`, also of its indexes — so the list stays small) and `GET /{user}`
 * (the whole record; 404 unknown).
 */
import express, { type Router } from 'express';
import { listUserNames, userListEntry, userView } from '../model/users.js';
import type { StateReader } from '../model/state.js';
import { sendJson } from '@wheelhouse/http';
import { param, validSegments } from './routing.js';

/** devpi's `list:userconfig` result: user name → public user view without large fields ({@link userListEntry}). */
export function userList(state: StateReader): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const name of listUserNames(state)) result[name] = userListEntry(state, name);
  return result;
}

/** Builds the user read routes (see module doc). */
export function userReadRoutes(deps: { state: StateReader }): Router {
  const router = express.Router();
  validSegments(router);
  router.get('/', (_req, res) => sendJson(res, 200, { type: 'list:userconfig', result: userList(deps.state) }));
  router.get('/:user{/}', (req, res) => {
    sendJson(res, 200, { type: 'userconfig', result: userView(deps.state, param(req, 'user')) });
  });
  return router;
}
