/**
 * What a login token is bound to: the account's identity and password generation, as
 * `<identity>.<pwgen>`. Identity is the record's random `uid` (records written before it existed use
 * `c<created>`, so they keep working without a migration); `pwgen` counts password changes (absent
 * = 0). Deleting and re-creating a user gives a new identity, changing the password a new
 * generation: either way every token issued before stops authenticating.
 */
import type { UserRecord } from '../model/records.js';

/** The binding string of `user`'s current identity and password generation. Pure. */
export function tokenBinding(user: UserRecord): string {
  return `${user.uid ?? `c${user.created}`}.${user.pwgen ?? 0}`;
}
