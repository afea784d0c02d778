/**
 * Throttling of password guesses (OWASP's "Authentication" cheat sheet: per-account and
 * per-address limits with growing delays). Failed password checks are counted per user and per
 * client address; after `freeFailures` failures every further one sets a wait of `baseDelayMs`
 * doubling up to `maxDelayMs`, during which attempts are refused at once with
 * {@link TooManyRequestsError} (429, `Retry-After`) — before argon2 runs, so a guessing client costs
 * no CPU and never delays anyone else's request (nothing sleeps).
 *
 * So that nobody can lock a user out, neither wait applies to a "known" pair: an address that gave
 * that user's correct password within `trustMs`. An attacker's guesses for alice slow down the
 * attacker and addresses alice never logged in from, while alice's usual machines (and twine's Basic
 * auth on every upload from them) go on, also behind an address (NAT) the attacker shares. A known
 * pair stops being known after `freeFailures` wrong passwords in a row from it. A correct password
 * resets the user's and the address's counters.
 *
 * Checks in progress are bounded, so that guesses sent in parallel cannot all run before the first
 * ones fail ({@link LoginThrottle.begin}): per user, at most `freeFailures - f` at once (`f`: its
 * failures on record; at least one), so parallel guesses for a user get no more tries than serial
 * ones; per address, at most `maxInFlight` while the address has no wait to serve, then one. A check
 * in progress is no failure: correct passwords of different users sent in parallel from one address
 * (a CI machine, a NAT) are all admitted.
 *
 * Memory is bounded: three LRU maps (`lru-cache`) of at most `maxEntries` each; counters are
 * forgotten `forgetMs` after their last failure.
 */
import { LRUCache } from 'lru-cache';
import { TooManyRequestsError } from '../errors.js';

/** Options of {@link LoginThrottle}; every duration in ms. */
export interface LoginThrottleOptions {
  /** Failures (per user, per address) before waits start. Default 5. */
  freeFailures?: number;
  /** The first wait, doubled on every further failure. Default 1,000 ms. */
  baseDelayMs?: number;
  /** The longest wait. Default 300,000 ms (5 minutes). */
  maxDelayMs?: number;
  /** A counter is forgotten this long after its last failure. Default 3,600,000 ms (1 hour). */
  forgetMs?: number;
  /** How long a correct password makes a (user, address) pair known. Default 30 days. */
  trustMs?: number;
  /** Password checks run at once from one address that has no wait to serve. Default 32. */
  maxInFlight?: number;
  /** Most counters (and, separately, known pairs) kept; the least recently used are dropped. Default 50,000. */
  maxEntries?: number;
}

interface Counter {
  failures: number;
  /** No attempt before this time (ms since the epoch); 0 = none. */
  until: number;
  /** Password checks begun and not ended. */
  inFlight: number;
}

/** A password check in progress, from {@link LoginThrottle.begin}; give it back to `end` once. */
export interface LoginAttempt {
  readonly user: string;
  readonly address: string;
  readonly userExists: boolean;
  /** The counters whose `inFlight` this attempt holds. */
  readonly holds: Array<{ map: LRUCache<string, Counter>; key: string; counter: Counter }>;
}

/** Counts failed password checks and refuses attempts that must wait (see module doc). */
export class LoginThrottle {
  private readonly freeFailures: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxInFlight: number;
  private readonly users: LRUCache<string, Counter>;
  private readonly addresses: LRUCache<string, Counter>;
  private readonly known: LRUCache<string, { failures: number }>;

  constructor(opts: LoginThrottleOptions = {}) {
    this.freeFailures = opts.freeFailures ?? 5;
    this.baseDelayMs = opts.baseDelayMs ?? 1_000;
    this.maxDelayMs = opts.maxDelayMs ?? 300_000;
    this.maxInFlight = opts.maxInFlight ?? 32;
    const max = opts.maxEntries ?? 50_000;
    const forget = opts.forgetMs ?? 3_600_000;
    this.users = new LRUCache({ max, ttl: forget, ttlAutopurge: false });
    this.addresses = new LRUCache({ max, ttl: forget, ttlAutopurge: false });
    this.known = new LRUCache({ max, ttl: opts.trustMs ?? 30 * 86_400_000, ttlAutopurge: false });
  }

  /**
   * Throws {@link TooManyRequestsError} (429, `Retry-After` in whole seconds) when `address` or `user`
   * must wait and the pair is not known; else returns. `address` `''` = unknown.
   */
  admit(user: string, address: string, now = Date.now()): void {
    if (this.known.has(pairKey(user, address))) return;
    const byAddress = this.addresses.get(address);
    if (byAddress && byAddress.until > now) {
      throw this.refusal(`too many failed logins from ${address || 'this address'}`, byAddress.until - now);
    }
    const byUser = this.users.get(user);
    if (byUser && byUser.until > now) throw this.refusal(`too many failed logins for user '${user}'`, byUser.until - now);
  }

  /**
   * Starts a password check for `user` from `address` (after {@link admit}): throws
   * {@link TooManyRequestsError} (429, retry in 1 s) when the user or the address already has as many
   * checks in progress as it may (see module doc); never for a known pair. `userExists` false bounds
   * only the address.
   */
  begin(user: string, address: string, userExists: boolean): LoginAttempt {
    // a known pair is never refused (see module doc), and so holds nothing
    if (this.known.has(pairKey(user, address))) return { user, address, userExists, holds: [] };
    const holds = [{ map: this.addresses, key: address, what: `from ${address || 'this address'}`, room: (f: number) => (f > this.freeFailures ? 1 : this.maxInFlight) }];
    if (userExists) holds.push({ map: this.users, key: user, what: `for user '${user}'`, room: (f: number) => Math.max(1, this.freeFailures - f) });
    const held = holds.map(({ map, key, what, room }) => {
      const counter = map.get(key) ?? { failures: 0, until: 0, inFlight: 0 };
      if (counter.inFlight >= room(counter.failures)) throw this.refusal(`too many logins in progress ${what}`, 1_000);
      return { map, key, counter };
    });
    for (const { map, key, counter } of held) {
      counter.inFlight += 1;
      map.set(key, counter);
    }
    return { user, address, userExists, holds: held };
  }

  /** Ends `attempt`: `correct` true records a correct password, false a wrong one, undefined neither (the check failed). */
  end(attempt: LoginAttempt, correct: boolean | undefined, now = Date.now()): void {
    for (const { counter } of attempt.holds) counter.inFlight -= 1;
    if (correct === true) this.succeeded(attempt.user, attempt.address);
    else if (correct === false) this.failed(attempt.user, attempt.address, attempt.userExists, now);
    else for (const { map, key } of attempt.holds) this.reset(map, key, false);
  }

  /** Records a wrong password for `user` from `address`; `userExists` false counts only the address. */
  failed(user: string, address: string, userExists: boolean, now = Date.now()): void {
    this.bump(this.addresses, address, now);
    if (userExists) this.bump(this.users, user, now);
    const key = pairKey(user, address);
    const known = this.known.get(key, { updateAgeOnGet: false });
    if (known && ++known.failures >= this.freeFailures) this.known.delete(key);
  }

  /** Records a correct password: resets both counters and makes the pair known. */
  succeeded(user: string, address: string): void {
    this.reset(this.addresses, address, true);
    this.reset(this.users, user, true);
    this.known.set(pairKey(user, address), { failures: 0 });
  }

  /** Counters and known pairs held (for tests and metrics). */
  get size(): { users: number; addresses: number; known: number } {
    return { users: this.users.size, addresses: this.addresses.size, known: this.known.size };
  }

  /** Forgets the counter's failures (`clear`) and drops it once nothing is left in it; checks in progress stay counted. */
  private reset(map: LRUCache<string, Counter>, key: string, clear: boolean): void {
    const counter = map.get(key, { updateAgeOnGet: false });
    if (!counter) return;
    if (clear) {
      counter.failures = 0;
      counter.until = 0;
    }
    if (counter.failures === 0 && counter.inFlight <= 0) map.delete(key);
  }

  private bump(map: LRUCache<string, Counter>, key: string, now: number): void {
    const counter = map.get(key) ?? { failures: 0, until: 0, inFlight: 0 };
    counter.failures += 1;
    const over = counter.failures - this.freeFailures;
    if (over > 0) counter.until = now + Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(over - 1, 30));
    map.set(key, counter);
  }

  private refusal(what: string, waitMs: number): TooManyRequestsError {
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    return new TooManyRequestsError(`${what}; retry in ${seconds} s`, seconds);
  }
}

function pairKey(user: string, address: string): string {
  return `${user}\0${address}`;
}
