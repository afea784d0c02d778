/**
 * Who is making a request: credentials from `X-Devpi-Auth: base64(user:secret)` (devpi-client) or
 * `Authorization: Basic base64(user:secret)` (pip, twine), where the secret is a login token or the
 * password (devpi §2.1). Invalid or expired credentials count as anonymous, as in devpi; endpoints
 * that need a user then answer 401.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { getUser } from '../model/users.js';
import type { StateReader } from '../model/state.js';
import type { Principal } from '../acl.js';
import { VerificationCache } from './passwords.js';
import type { TokenSigner } from './tokens.js';

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
  constructor(
    private readonly state: StateReader,
    readonly tokens: TokenSigner,
    cache?: VerificationCache,
  ) {
    this.cache = cache ?? new VerificationCache();
  }

  /** The user named by valid credentials (token or password), else undefined. */
  async check(creds: Credentials): Promise<string | undefined> {
    const user = getUser(this.state, creds.user);
    if (!user) return undefined;
    if (this.tokens.verify(creds.secret, creds.user)) return creds.user;
    if (!user.pwhash) return undefined;
    return (await this.cache.verify(creds.user, creds.secret, user.pwhash)) ? creds.user : undefined;
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

  /** The authenticated principal of a request (undefined = anonymous). */
  async principal(headers: IncomingHttpHeaders): Promise<Principal> {
    const creds = parseCredentials(headers);
    return creds ? this.check(creds) : undefined;
  }
}
