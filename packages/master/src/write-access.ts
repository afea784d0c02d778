/**
 * Who may write what (devpi §2): a user and its indexes are changed by that user or `root`; files,
 * versions and projects of an index are deleted by its owner, `root`, or anyone its `acl_upload`
 * lets upload. Anonymous requests get 401 (the error handler adds `WWW-Authenticate: Basic`),
 * others 403. `who` is the authenticated user (undefined = anonymous).
 */
import { ForbiddenError, UnauthorizedError, aclAllows, requireIndex, type StateReader } from '@wheelhouse/core';

/** The authenticated user; UnauthorizedError (401) when anonymous. */
function requireLogin(who: string | undefined): string {
  if (who === undefined) throw new UnauthorizedError('authentication required');
  return who;
}

/** `root`, or the user named in the URL; 401 anonymous, 403 others. */
export function requireRootOrSelf(who: string | undefined, user: string): string {
  const me = requireLogin(who);
  if (me !== 'root' && me !== user) throw new ForbiddenError(`user '${me}' may not modify user '${user}'`);
  return me;
}

/** May delete in `user/index`: its owner, `root`, or its `acl_upload`. 404 unknown index, 401 anonymous, 403 others. */
export function requireDeleter(state: StateReader, who: string | undefined, user: string, index: string): void {
  const cfg = requireIndex(state, user, index);
  if (who === 'root' || who === user || (cfg.type === 'stage' && aclAllows(cfg.acl_upload, who))) return;
  if (who === undefined) throw new UnauthorizedError(`authentication required to delete from ${user}/${index}`);
  throw new ForbiddenError(`user '${who}' may not delete from ${user}/${index}`);
}
