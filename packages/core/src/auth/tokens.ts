/**
 * Login tokens (devpi's `/+login` "proxyauth" password): `wh1.<payload>.<signature>` where payload is
 * base64url JSON `[user, expiresAtMs]` or, for login tokens, `[user, expiresAtMs, binding]` (the
 * account's identity and password generation, `token-binding.ts`; a token whose binding no longer
 * matches the user record is revoked) or, for LDAP directory users, `[user, expiresAtMs,
 * "directory", groups]` (the directory groups at login, as devpi's `[user, groups, from_user_object]`
 * tokens) and signature is base64url HMAC-SHA256 over `wh1.<payload>`
 * with a key derived (HKDF-SHA256) from the secret file's bytes. Valid on every node that shares the
 * secret file. Expiry 10 h, like devpi.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** devpi's login expiry: 36,000 s. */
export const LOGIN_EXPIRATION_SECONDS = 36_000;

const PREFIX = 'wh1';

/** Signs and verifies login tokens. */
export class TokenSigner {
  private readonly key: Buffer;

  /** `secret`: the secret file's bytes (≥ 32 bytes); `purpose` separates key uses (login, replica). */
  constructor(secret: Uint8Array, purpose = 'wheelhouse-login') {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'wheelhouse', purpose, 32));
  }

  private sign(data: string): string {
    return createHmac('sha256', this.key).update(data).digest('base64url');
  }

  /** A token for `user`, valid for `ttlSeconds` (default 36,000), bound to `binding` when given, carrying `groups` when given. */
  issue(user: string, ttlSeconds = LOGIN_EXPIRATION_SECONDS, now = Date.now(), binding?: string, groups?: readonly string[]): string {
    const claims: unknown[] = binding === undefined ? [user, now + ttlSeconds * 1000] : [user, now + ttlSeconds * 1000, binding];
    if (binding !== undefined && groups !== undefined) claims.push(groups);
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const head = `${PREFIX}.${payload}`;
    return `${head}.${this.sign(head)}`;
  }

  /**
   * The claims `[user, expiresAtMs, binding?, groups?]` of a token this signer issued (signature checked,
   * expiry not); undefined for anything else. A signed token is never a password guess.
   */
  claims(token: string): [string, number, string?, string[]?] | undefined {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== PREFIX) return undefined;
    const expected = Buffer.from(this.sign(`${parts[0]}.${parts[1]}`));
    const given = Buffer.from(parts[2]!);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (!Array.isArray(claims) || typeof claims[0] !== 'string' || typeof claims[1] !== 'number') return undefined;
    if (claims[2] !== undefined && typeof claims[2] !== 'string') return undefined;
    if (claims[3] !== undefined && !(Array.isArray(claims[3]) && claims[3].every((g) => typeof g === 'string'))) return undefined;
    return claims as [string, number, string?, string[]?];
  }

  /**
   * The user a valid, unexpired token was issued to (it must equal `user` when given, and its
   * binding must equal `binding` when given: an unbound token then fails); else undefined.
   */
  verify(token: string, user?: string, now = Date.now(), binding?: string): string | undefined {
    const claims = this.claims(token);
    if (!claims || claims[1] <= now) return undefined;
    if (user !== undefined && claims[0] !== user) return undefined;
    if (binding !== undefined && claims[2] !== binding) return undefined;
    return claims[0];
  }
}

/** The subject of replica tokens (devpi's `+replica` identity; never a real user name). */
export const REPLICA_SUBJECT = '+replica';

/** How long a replica token is valid, seconds. Replicas mint a fresh one per request. */
export const REPLICA_TOKEN_SECONDS = 300;

/** The signer of replica tokens: same secret file as login tokens, separate key. */
export function replicaTokenSigner(secret: Uint8Array): TokenSigner {
  return new TokenSigner(secret, 'wheelhouse-replica');
}
