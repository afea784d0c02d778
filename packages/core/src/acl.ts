/**
 * Principals and ACL checks, as devpi (§2.5–2.6 of the devpi reference): ACL lists hold user names,
 * the special principals `:ANONYMOUS:` (everyone) and `:AUTHENTICATED:` (any logged-in user), and
 * `:group:NAME` for the members of a directory group (devpi-ldap's spelling; groups come from the
 * LDAP directory, `auth/ldap/`). This file holds the one ACL matcher, {@link aclAllows}.
 */
import { BadRequestError } from './errors.js';

/** An authenticated user: its name and the directory groups it belongs to (empty for local users and root). */
export interface AuthenticatedUser {
  readonly name: string;
  readonly groups: readonly string[];
}

/** Who makes a request: an authenticated user, or undefined for anonymous. */
export type Principal = AuthenticatedUser | undefined;

/** The principal of the user `name` with `groups` (default none): what tests and local users get. */
export function userPrincipal(name: string, groups: readonly string[] = []): AuthenticatedUser {
  return { name, groups };
}

/** The user name of `who`, undefined for anonymous. */
export function principalName(who: Principal): string | undefined {
  return who?.name;
}

/** `who` for messages: `user 'alice'` or `anonymous`. */
export function describePrincipal(who: Principal): string {
  return who === undefined ? 'anonymous' : `user '${who.name}'`;
}

const GROUP_PREFIX = ':group:';

/** True when `acl` lets `who` through: `:ANONYMOUS:`, `:AUTHENTICATED:`, its name, or `:group:G` for one of its groups. */
export function aclAllows(acl: readonly string[], who: Principal): boolean {
  for (const entry of acl) {
    if (entry === ':ANONYMOUS:') return true;
    if (who === undefined) continue;
    if (entry === ':AUTHENTICATED:' || entry === who.name) return true;
    if (entry.startsWith(GROUP_PREFIX) && who.groups.includes(entry.slice(GROUP_PREFIX.length))) return true;
  }
  return false;
}

/**
 * Normalises an ACL entry as devpi: special names upper-cased, `:group:NAME` with its prefix
 * lower-cased and the group name kept as written (directory names compare exactly, as devpi-ldap),
 * others kept. Throws BadRequestError (400) for `:group:` without a name.
 */
export function normalizeAclEntry(entry: string): string {
  const e = entry.trim();
  if (/^:(anonymous|authenticated):$/i.test(e)) return e.toUpperCase();
  if (!e.toLowerCase().startsWith(GROUP_PREFIX)) return e;
  const group = e.slice(GROUP_PREFIX.length).trim();
  if (!group) throw new BadRequestError(`ACL entry '${entry}' names no group: write :group:NAME`);
  return GROUP_PREFIX + group;
}
