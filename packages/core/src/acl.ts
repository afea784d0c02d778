/**
 * Principals and ACL checks, as devpi (§2.5–2.6 of the devpi reference): ACL lists hold user names
 * and the special principals `:ANONYMOUS:` (everyone) and `:AUTHENTICATED:` (any logged-in user).
 */

/** Who makes a request: a user name, or undefined for anonymous. */
export type Principal = string | undefined;

/** True when `acl` lets `user` through. */
export function aclAllows(acl: readonly string[], user: Principal): boolean {
  for (const entry of acl) {
    if (entry === ':ANONYMOUS:') return true;
    if (user !== undefined && (entry === ':AUTHENTICATED:' || entry === user)) return true;
  }
  return false;
}

/** Normalises an ACL entry as devpi: special names upper-cased, others kept. */
export function normalizeAclEntry(entry: string): string {
  const e = entry.trim();
  return /^:(anonymous|authenticated):$/i.test(e) ? e.toUpperCase() : e;
}
