/**
 * The user directory (LDAP, devpi-ldap's role) as the {@link Authenticator} sees it: checks a
 * directory user's password and yields its groups, with a cache of successful checks and a health
 * state. The raw lookup is a {@link DirectoryLookup} (`ldap-directory.ts` with ldapts; a fake in
 * tests). Unreachable directory: one warn log line when it goes down and one info line when it is
 * back, `wheelhouse_ldap_up` 0 and `wheelhouse_ldap_errors_total` counting, and
 * {@link DirectoryUnavailableError} (503) for directory users whose password is not in the cache;
 * local users, root and login tokens never ask the directory.
 *
 * The cache keeps, per user, an HMAC-SHA256 of the password under a key made at start (never the
 * password, never on disk) with the groups, for `cacheMs`; at most `maxEntries` users (LRU).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { DirectoryUnavailableError } from '../../errors.js';

/** What a directory says about a user name and password. */
export type DirectoryAnswer =
  /** the password is right: the user's directory groups (names, e.g. the groups' `cn`) */
  | { readonly groups: readonly string[] }
  /** no such user in the directory (or more than one entry matched: ambiguous, refused) */
  | 'unknown-user'
  /** the user exists and the password is wrong */
  | 'wrong-password';

/** The raw directory: one check per call, no cache. Rejects (any error) when the directory cannot answer. */
export interface DirectoryLookup {
  /** Checks `password` of `user` (non-empty, already a valid user name). */
  authenticate(user: string, password: string): Promise<DirectoryAnswer>;
  /** Where the directory is, for log lines (`ldap://host:389`); never credentials. */
  readonly description: string;
}

/** Options of a {@link UserDirectory}. */
export interface UserDirectoryOptions {
  /** How long a successful check (and its groups) is reused, ms; 0 = never cached. */
  cacheMs: number;
  /** Most users cached. Default 10,000. */
  maxEntries?: number;
  log?: Logger;
  /** Clock, ms since the epoch (tests). */
  now?: () => number;
}

interface CachedCheck {
  digest: Buffer;
  groups: readonly string[];
  until: number;
}

/** The directory with its cache and health (see module doc). */
export class UserDirectory {
  private readonly key = randomBytes(32);
  private readonly cache: LRUCache<string, CachedCheck>;
  private readonly cacheMs: number;
  private readonly log: Logger | undefined;
  private readonly now: () => number;
  private readonly inFlight = new Map<string, Promise<DirectoryAnswer>>();
  private reachable: boolean | undefined;
  private failures = 0;

  constructor(
    private readonly lookup: DirectoryLookup,
    opts: UserDirectoryOptions,
  ) {
    this.cacheMs = opts.cacheMs;
    this.cache = new LRUCache({ max: opts.maxEntries ?? 10_000 });
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
  }

  /**
   * What the directory says about `user`/`password` (an empty password is `wrong-password` without
   * asking: LDAP takes a bind with an empty password as an anonymous bind, RFC 4513 §5.1.2). A fresh
   * cached success answers without the directory. Throws {@link DirectoryUnavailableError} when the
   * directory cannot answer.
   */
  async check(user: string, password: string): Promise<DirectoryAnswer> {
    if (password === '') return 'wrong-password';
    const digest = createHmac('sha256', this.key).update(user).update('\0').update(password).digest();
    const hit = this.cache.get(user);
    if (hit && hit.until > this.now() && timingSafeEqual(hit.digest, digest)) return { groups: hit.groups };
    // parallel requests with the same credentials (twine's uploads, a page's assets) share one lookup
    const key = `${user}\0${digest.toString('hex')}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.ask(user, password, digest).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async ask(user: string, password: string, digest: Buffer): Promise<DirectoryAnswer> {
    let answer: DirectoryAnswer;
    try {
      answer = await this.lookup.authenticate(user, password);
    } catch (err) {
      this.failed(err as Error);
      throw new DirectoryUnavailableError(
        `the user directory (LDAP) cannot be reached to check the password of '${user}'; local users and login tokens still work, try again later`,
      );
    }
    this.answered();
    if (typeof answer === 'object' && this.cacheMs > 0) this.cache.set(user, { digest, groups: answer.groups, until: this.now() + this.cacheMs });
    else if (typeof answer !== 'object') this.cache.delete(user);
    return answer;
  }

  /** 1 when the last lookup reached the directory, 0 when it failed, -1 before the first. */
  get up(): number {
    return this.reachable === undefined ? -1 : this.reachable ? 1 : 0;
  }

  /** Lookups that failed to reach the directory (or were refused by it as an error) since start. */
  get errors(): number {
    return this.failures;
  }

  /** Registers `wheelhouse_ldap_up` and `wheelhouse_ldap_errors_total` on a node's metrics registry. */
  registerMetrics(registry: Registry): void {
    const self = this;
    new Gauge({ name: 'wheelhouse_ldap_up', help: 'LDAP directory reachable at the last lookup: 1 yes, 0 no, -1 not asked yet', registers: [registry], collect() { this.set(self.up); } });
    new Counter({
      name: 'wheelhouse_ldap_errors_total',
      help: 'LDAP lookups that could not reach the directory since start (directory users got 503)',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(self.failures);
      },
    });
  }

  private failed(err: Error): void {
    this.failures++;
    if (this.reachable !== false) {
      this.log?.warn(
        { directory: this.lookup.description, err: err.message },
        'LDAP directory unreachable: directory users get 503 until it answers; local users, root and login tokens are not affected',
      );
    }
    this.reachable = false;
  }

  private answered(): void {
    if (this.reachable === false) this.log?.info({ directory: this.lookup.description }, 'LDAP directory reachable again');
    this.reachable = true;
  }
}
