/**
 * Who is making a request: credentials from `X-Devpi-Auth: base64(user:secret)` (devpi-client) or
 * `Authorization: Basic base64(user:secret)` (pip, twine), where the secret is a login token or the
 * password (devpi §2.1). Invalid or expired credentials count as anonymous, as in devpi; endpoints
 * that need a user then answer 401. A login token authenticates only while its binding (the
 * account's identity and password generation, `token-binding.ts`) matches the user record. Password
 * checks go through the {@link LoginThrottle} of the client's address (`client-address.ts`): 429
 * with `Retry-After` after repeated wrong passwords; signed tokens are never throttled.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { getUser } from '../model/users.js';
import type { StateReader } from '../model/state.js';
import type { Principal } from '../acl.js';
import { NotFoundError } from '../errors.js';
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

/** Extracts credentials from request headers, `X-Devpi-Auth` first. */
export function parseCredentials(headers: IncomingHttpHeaders): Credentials | undefined {
  const devpi = headers['x-devpi-auth'];
  if (typeof devpi === 'string' && devpi) return decodePair(devpi);
  const auth = headers.authorization;
  if (typeof auth === 'string' && /^basic /i.test(auth)) return decodePair(auth.slice(6));
  return undefined;
}

/** Checks credentials against the current state. */
export class Authenticator {
  readonly cache: VerificationCache;
  readonly throttle: LoginThrottle;
  constructor(
    private readonly state: StateReader,
    readonly tokens: TokenSigner,
    cache?: VerificationCache,
    throttle?: LoginThrottle,
  ) {
    this.cache = cache ?? new VerificationCache();
    this.throttle = throttle ?? new LoginThrottle();
  }

  /**
   * The user named by valid credentials (a token bound to the current record, or the password),
   * else undefined. `address`: the client's (`clientAddress`), for throttling. Throws
   * TooManyRequestsError (429) when password attempts for the user or from the address must wait.
   */
  async check(creds: Credentials, address = ''): Promise<string | undefined> {
    const claims = this.tokens.claims(creds.secret);
    if (claims) {
      const user = getUser(this.state, creds.user);
      return user && this.tokens.verify(creds.secret, creds.user, Date.now(), tokenBinding(user)) ? creds.user : undefined;
    }
    this.throttle.admit(creds.user, address);
    const user = getUser(this.state, creds.user);
    if (user?.pwhash !== undefined && this.cache.hit(creds.user, creds.secret, user.pwhash)) {
      this.throttle.succeeded(creds.user, address);
      return creds.user;
    }
    // counted before argon2 runs, so that guesses sent in parallel cannot all pass `admit`
    this.throttle.failed(creds.user, address, user !== undefined);
    const ok = user?.pwhash !== undefined && (await this.cache.verify(creds.user, creds.secret, user.pwhash));
    if (!ok) return undefined;
    this.throttle.succeeded(creds.user, address);
    return creds.user;
  }

  /** A login token for the user `name` (NotFoundError if absent), bound to its current identity and password generation. */
  issueToken(name: string, ttlSeconds = LOGIN_EXPIRATION_SECONDS): string {
    const user = getUser(this.state, name);
    if (!user) throw new NotFoundError(`user '${name}' does not exist`);
    return this.tokens.issue(name, ttlSeconds, Date.now(), tokenBinding(user));
  }

  /**
   * Why credentials that {@link check} refused were refused, for the 401 message: `wrong password
   * for user alice` (or, for a login token, `login token for user alice is invalid or expired`)
   * when the user exists; undefined for an unknown user (the generic message stays).
   */
  failureMessage(creds: Credentials): string | undefined {
    if (!getUser(this.state, creds.user)) return undefined;
    if (/^wh1\.[^.]*\.[^.]*$/.test(creds.secret)) return `login token for user ${creds.user} is invalid or expired`;
    return `wrong password for user ${creds.user}`;
  }

  /** The authenticated principal of a request (undefined = anonymous); `peer`: the socket's remote address. */
  async principal(headers: IncomingHttpHeaders, peer?: string): Promise<Principal> {
    const creds = parseCredentials(headers);
    return creds ? this.check(creds, clientAddress(headers, peer)) : undefined;
  }
}
