/**
 * Who is making a request: credentials from `X-Devpi-Auth: base64(user:secret)` (devpi-client) or
 * `Authorization: Basic base64(user:secret)` (pip, twine), where the secret is a login token or the
 * password (devpi §2.1). Invalid or expired credentials count as anonymous, as in devpi; endpoints
 * that need a user then answer 401. A login token authenticates only while its binding (the
 * account's identity and password generation, `token-binding.ts`) matches the user record. Password
 * checks go through the {@link LoginThrottle} of the client's address (`client-address.ts`): 429
 * with `Retry-After` after repeated wrong passwords; signed tokens are never throttled.
 *
 * With a {@link UserDirectory} (LDAP, `--ldap-config`), a user that has no local record (and is
 * not `root`) is checked against the directory, and its principal carries the directory groups.
 * As devpi-ldap, a directory user gets no user record in the changelog: its login token carries
 * the binding `directory` and the groups at login (devpi's `[user, groups, from_user_object]`),
 * so tokens keep working while the directory is down and are refused once a local user of that
 * name exists. Unlike devpi (plugins first), local users are checked first, so local accounts and
 * root never depend on the directory.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { getUser } from '../model/users.js';
import type { StateReader } from '../model/state.js';
import type { AuthenticatedUser, Principal } from '../acl.js';
import { NotFoundError } from '../errors.js';
import { isValidUserOrIndexName } from '../names.js';
import type { UserDirectory } from './directory/user-directory.js';
import { VerificationCache } from './passwords.js';
import { LOGIN_EXPIRATION_SECONDS, type TokenSigner } from './tokens.js';
import { tokenBinding } from './token-binding.js';
import { LoginThrottle } from './login-throttle.js';
import { clientAddress } from './client-address.js';

/** Credentials as sent; `secret` is a token or a password. */
export interface Credentials {
  user: string;
  secret: string;
}

function decodePair(b64: string): Credentials | undefined {
  const raw = Buffer.from(b64.trim(), 'base64').toString('utf8');
  const colon = raw.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: raw.slice(0, colon), secret: raw.slice(colon + 1) };
}

/** True for a secret shaped like a login token (`wh1.<payload>.<signature>`), signed or not. */
function looksLikeToken(secret: string): boolean {
  return /^wh1\.[^.]*\.[^.]*$/.test(secret);
}

/** Extracts credentials from request headers, `X-Devpi-Auth` first. */
export function parseCredentials(headers: IncomingHttpHeaders): Credentials | undefined {
  const devpi = headers['x-devpi-auth'];
  if (typeof devpi === 'string' && devpi) return decodePair(devpi);
  const auth = headers.authorization;
  if (typeof auth === 'string' && /^basic /i.test(auth)) return decodePair(auth.slice(6));
  return undefined;
}

/** The binding of a directory user's login token (never a local record's `<identity>.<pwgen>`). */
export const DIRECTORY_BINDING = 'directory';

/** What {@link Authenticator.authenticate} found: the user, or why credentials were refused (undefined = say nothing specific). */
export interface AuthResult {
  user?: AuthenticatedUser;
  failure?: string;
}

/** Checks credentials against the current state (and the directory, when one is configured). */
export class Authenticator {
  readonly cache: VerificationCache;
  readonly throttle: LoginThrottle;
  constructor(
    private readonly state: StateReader,
    readonly tokens: TokenSigner,
    cache?: VerificationCache,
    throttle?: LoginThrottle,
    /** The LDAP directory of users without a local record; absent = local users only. */
    readonly directory?: UserDirectory,
  ) {
    this.cache = cache ?? new VerificationCache();
    this.throttle = throttle ?? new LoginThrottle();
  }

  /**
   * The user named by valid credentials (a token bound to the current record, or the password),
   * else undefined. `address`: the client's (`clientAddress`), for throttling. Throws
   * TooManyRequestsError (429) when password attempts for the user or from the address must wait,
   * DirectoryUnavailableError (503) when a directory user's password cannot be checked.
   */
  async check(creds: Credentials, address = ''): Promise<string | undefined> {
    return (await this.authenticate(creds, address)).user?.name;
  }

  /** As {@link check}, with the principal (directory groups included) and the reason of a refusal. */
  async authenticate(creds: Credentials, address = ''): Promise<AuthResult> {
    const claims = this.tokens.claims(creds.secret);
    const user = getUser(this.state, creds.user);
    if (claims) return this.fromToken(creds, claims, user !== undefined);
    if (!user && this.directory && creds.user !== 'root') {
      // a token of another secret (or a mangled one) is no directory password
      if (looksLikeToken(creds.secret)) return { failure: `login token for user ${creds.user} is invalid or expired` };
      return this.fromDirectory(this.directory, creds, address);
    }
    this.throttle.admit(creds.user, address);
    if (user?.pwhash !== undefined && this.cache.hit(creds.user, creds.secret, user.pwhash)) {
      this.throttle.succeeded(creds.user, address);
      return { user: { name: creds.user, groups: [] } };
    }
    // bounded while argon2 runs, so that guesses sent in parallel cannot all pass `admit`
    const attempt = this.throttle.begin(creds.user, address, user !== undefined);
    let ok: boolean | undefined;
    try {
      ok = user?.pwhash !== undefined && (await this.cache.verify(creds.user, creds.secret, user.pwhash));
    } finally {
      this.throttle.end(attempt, ok);
    }
    if (!ok) return user ? { failure: this.failureMessage(creds) ?? '' } : {};
    return { user: { name: creds.user, groups: [] } };
  }

  private fromToken(creds: Credentials, claims: [string, number, string?, string[]?], local: boolean): AuthResult {
    const invalid = { failure: `login token for user ${creds.user} is invalid or expired` };
    if (local) {
      const record = getUser(this.state, creds.user)!;
      return this.tokens.verify(creds.secret, creds.user, Date.now(), tokenBinding(record)) ? { user: { name: creds.user, groups: [] } } : invalid;
    }
    if (!this.directory || claims[2] !== DIRECTORY_BINDING) return {};
    return this.tokens.verify(creds.secret, creds.user, Date.now(), DIRECTORY_BINDING) ? { user: { name: creds.user, groups: claims[3] ?? [] } } : invalid;
  }

  private async fromDirectory(directory: UserDirectory, creds: Credentials, address: string): Promise<AuthResult> {
    if (!isValidUserOrIndexName(creds.user)) return {};
    this.throttle.admit(creds.user, address);
    // counted once the directory answered (an outage is no wrong password and must not lock anyone
    // out); parallel guesses each cost the directory one lookup, which its own policy (ppolicy) bounds
    const answer = await directory.check(creds.user, creds.secret);
    if (typeof answer === 'object') {
      this.throttle.succeeded(creds.user, address);
      return { user: { name: creds.user, groups: answer.groups } };
    }
    this.throttle.failed(creds.user, address, answer === 'wrong-password');
    return answer === 'wrong-password' ? { failure: `wrong password for user ${creds.user}` } : {};
  }

  /**
   * A login token for `who`: a user name or an authenticated principal. A local user's token is
   * bound to its current identity and password generation; a principal without a local record
   * (a directory user, when a directory is configured) gets a {@link DIRECTORY_BINDING} token with
   * its groups. NotFoundError for a name with neither.
   */
  issueToken(who: string | AuthenticatedUser, ttlSeconds = LOGIN_EXPIRATION_SECONDS): string {
    const name = typeof who === 'string' ? who : who.name;
    const user = getUser(this.state, name);
    if (user) return this.tokens.issue(name, ttlSeconds, Date.now(), tokenBinding(user));
    if (typeof who === 'object' && this.directory) return this.tokens.issue(name, ttlSeconds, Date.now(), DIRECTORY_BINDING, who.groups);
    throw new NotFoundError(`user '${name}' does not exist`);
  }

  /**
   * Why credentials that {@link check} refused were refused, for the 401 message: `wrong password
   * for user alice` (or, for a login token, `login token for user alice is invalid or expired`)
   * when the user exists; undefined for an unknown user (the generic message stays).
   */
  failureMessage(creds: Credentials): string | undefined {
    if (!getUser(this.state, creds.user)) return undefined;
    if (looksLikeToken(creds.secret)) return `login token for user ${creds.user} is invalid or expired`;
    return `wrong password for user ${creds.user}`;
  }

  /** The authenticated principal of a request (undefined = anonymous); `peer`: the socket's remote address. */
  async principal(headers: IncomingHttpHeaders, peer?: string): Promise<Principal> {
    const creds = parseCredentials(headers);
    return creds ? (await this.authenticate(creds, clientAddress(headers, peer))).user : undefined;
  }
}
