/**
 * Password hashing with argon2id (`@node-rs/argon2`, PHC strings, OWASP parameters by default), and a
 * short-lived, memory-only cache of successful verifications so that clients sending HTTP Basic
 * auth with every request (twine: one request per file) do not pay a deliberately slow hash per
 * request. The cache is keyed by an HMAC of the credentials under a per-process random key (so it
 * never holds a password or a fast hash of one), and an entry only counts while the user's stored
 * hash is still the one it was verified against: a password change drops it at once.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

/** Hashes a password (argon2id PHC string). */
export async function hashPassword(password: string): Promise<string> {
  return hash(password);
}

/** Verifies a password against a PHC hash (argon2id/i/d, incl. passlib's, as devpi stores). Never throws. */
export async function verifyPassword(password: string, pwhash: string): Promise<boolean> {
  try {
    return await verify(pwhash, password);
  } catch {
    return false;
  }
}

/** Options of {@link VerificationCache}. */
export interface VerificationCacheOptions {
  /** How long a successful verification is reused, ms. Default 10 minutes. */
  ttlMs?: number;
  /** Most entries kept; the oldest is dropped beyond it. Default 10,000. */
  maxEntries?: number;
}

/** Caches successful password verifications (see module doc). */
export class VerificationCache {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, { pwhash: string; expires: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(opts: VerificationCacheOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  private id(user: string, password: string): string {
    return createHmac('sha256', this.key).update(user).update('\0').update(password).digest('base64');
  }

  /**
   * True when `password` is the password of a user whose stored hash is `pwhash`: from the cache
   * when this exact (user, password, pwhash) was verified within the TTL, else by argon2.
   */
  async verify(user: string, password: string, pwhash: string, now = Date.now()): Promise<boolean> {
    if (this.hit(user, password, pwhash, now)) return true;
    const id = this.id(user, password);
    if (!(await verifyPassword(password, pwhash))) {
      this.entries.delete(id);
      return false;
    }
    this.entries.delete(id);
    this.entries.set(id, { pwhash, expires: now + this.ttlMs });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return true;
  }

  /** True when this exact (user, password, pwhash) was verified within the TTL (no argon2). */
  hit(user: string, password: string, pwhash: string, now = Date.now()): boolean {
    const entry = this.entries.get(this.id(user, password));
    return entry !== undefined && entry.pwhash === pwhash && entry.expires > now;
  }

  /** Number of cached verifications (for metrics). */
  get size(): number {
    return this.entries.size;
  }
}
