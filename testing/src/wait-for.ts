// One bounded poll for every test and benchmark: no fixed sleeps; a timeout names what was awaited
// and what was seen last.

/** What a predicate returns to say "not yet, and this is what I saw" (shown on timeout). */
export interface NotYet {
  readonly notYet: true;
  readonly seen: string;
}

/** "Not yet": `seen` describes the state, for the timeout message. */
export function notYet(seen: string): NotYet {
  return { notYet: true, seen };
}

function isNotYet(v: unknown): v is NotYet {
  return typeof v === 'object' && v !== null && (v as { notYet?: unknown }).notYet === true;
}

export interface WaitOptions {
  /** Give up after this many ms (the predicate is always called at least once). */
  readonly timeoutMs: number;
  /** Pause between calls, ms; default 100. */
  readonly intervalMs?: number;
  /** What is awaited, for the error message ("replica1 to reach serial 12"). */
  readonly what: string;
}

/** Thrown by {@link waitFor} when the predicate did not hold within `timeoutMs`. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
  readonly code = 'WAIT_TIMEOUT';
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    /** The last `notYet(seen)` description or predicate error, if any. */
    readonly lastSeen: string,
  ) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${lastSeen}`);
  }
}

/**
 * Calls `predicate` every `intervalMs` until it returns something other than `false`,
 * `undefined`, `null` or a {@link notYet}; resolves with that value (`true` for a plain boolean
 * predicate). A predicate that throws counts as "not yet" (a node restarting refuses connections)
 * and its message becomes the last seen state.
 * @throws WaitTimeoutError after `timeoutMs`.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  opts: WaitOptions,
): Promise<Exclude<T, false | undefined | null | NotYet>> {
  const deadline = Date.now() + opts.timeoutMs;
  let seen = 'nothing yet';
  for (;;) {
    try {
      const v = await predicate();
      if (isNotYet(v)) seen = v.seen;
      else if (v !== false && v !== undefined && v !== null) return v as Exclude<T, false | undefined | null | NotYet>;
      else seen = String(v);
    } catch (err) {
      seen = `error: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (Date.now() >= deadline) throw new WaitTimeoutError(opts.what, opts.timeoutMs, seen);
    await sleep(opts.intervalMs ?? 100);
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
