/**
 * Page handlers of the browsing pages above a release (see `listing-pages.ts` for what they show):
 * `/`, `/{user}`, `/{user}/{index}` and `/{user}/{index}/{project}`. Each takes the state, the route
 * parameters and the request facts and answers a {@link PageResult}; unknown users, indexes and
 * projects throw `NotFoundError` (404).
 */
import { NotFoundError } from '../errors.js';
import { requireIndex } from '../model/indexes.js';
import type { StateReader } from '../model/state.js';
import { indexPage, projectPage, rootPage, userPage } from './listing-pages.js';
import { canonicalProjectRedirect, pageOf, type PageRequest, type PageResult } from './page-result.js';

/** `/`: every index of every user. */
export function rootHandler(state: StateReader, req: PageRequest): PageResult {
  return pageOf(rootPage(req.base, state));
}

/** `/{user}`: 404 for an unknown user. */
export function userHandler(state: StateReader, params: { user: string }, req: PageRequest): PageResult {
  return pageOf(userPage(req.base, state, params.user));
}

/** `/{user}/{index}?page=N`: `page` as sent (a number that does not parse means page 1); 404 for an unknown index. */
export function indexHandler(state: StateReader, params: { user: string; index: string; page: string }, req: PageRequest): PageResult {
  const cfg = requireIndex(state, params.user, params.index);
  const p = Number.parseInt(params.page || '1', 10);
  return pageOf(indexPage(req.base, state, params.user, params.index, cfg, Number.isFinite(p) ? p : 1));
}

/**
 * `/{user}/{index}/{project}`: `pass` for a mirror index (its projects live upstream; the read API
 * answers), a redirect for a non-normalised name, 404 for an unknown index or a project no stage of
 * the resolution order has.
 */
export function projectHandler(state: StateReader, params: { user: string; index: string; project: string }, req: PageRequest): PageResult {
  const { user, index } = params;
  if (requireIndex(state, user, index).type !== 'stage') return { kind: 'pass' };
  const redirect = canonicalProjectRedirect(params.project, req.originalUrl);
  if (redirect) return redirect;
  const spec = projectPage(req.base, state, user, index, params.project);
  if (!spec) throw new NotFoundError(`no project '${params.project}' in ${user}/${index} or its bases`);
  return pageOf(spec);
}
