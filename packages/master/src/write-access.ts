/**
 * Who may write what (devpi §2): a user and its indexes are changed by that user or `root`; files,
 * versions and projects of an index are deleted by its owner, `root`, or anyone its `acl_upload`
 * lets upload. Everyone else gets 403, anonymous requests included, as devpi-server answers: only
 * uploads and push answer 401 with `WWW-Authenticate` (twine needs it to send credentials; see
 * `upload/legacy-upload.ts` and `push-routes.ts`). `who` is the authenticated user (undefined =
 * anonymous).
 */
import { ForbiddenError, aclAllows, describePrincipal, requireIndex, type Principal, type StateReader } from '@wheelhouse/core';

/** How a refused writer is named in a 403 message. */
function nameOf(who: string | undefined): string {
  return who === undefined ? 'anonymous' : `user '${who}'`;
}

/** `root`, or the user named in the URL; ForbiddenError (403) for anyone else, anonymous included. */
export function requireRootOrSelf(who: string | undefined, user: string): string {
  if (who === undefined || (who !== 'root' && who !== user)) throw new ForbiddenError(`${nameOf(who)} may not modify user '${user}'`);
  return who;
}

/** May delete in `user/index`: its owner, `root`, or its `acl_upload` (groups included). 404 unknown index, 403 anyone else (anonymous included). */
export function requireDeleter(state: StateReader, who: Principal, user: string, index: string): void {
  const cfg = requireIndex(state, user, index);
  if (who?.name === 'root' || who?.name === user || (cfg.type === 'stage' && aclAllows(cfg.acl_upload, who))) return;
  throw new ForbiddenError(`${describePrincipal(who)} may not delete from ${user}/${index}`);
}
