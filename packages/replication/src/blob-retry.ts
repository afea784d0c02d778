/**
 * Back-off of blob (release file) retries, as data (STYLE 8): a failed fetch of a blob is tried
 * again after `firstMs`, then twice as long after each further failure, never longer than `maxMs`.
 * It runs beside the changelog stream, so a long back-off never delays later serials.
 */

/** First retry delay and cap, both in ms. */
export interface BlobRetryPolicy {
  firstMs: number;
  maxMs: number;
}

/** 1 s doubling up to 60 s (devpi retries a failing file for ever; so do we, ever more slowly). */
export const DEFAULT_BLOB_RETRY: BlobRetryPolicy = { firstMs: 1_000, maxMs: 60_000 };

/**
 * Delay before the next try, ms, after `attempts` failed ones (1-based):
 * `min(firstMs · 2^(attempts − 1), maxMs)`.
 */
export function blobRetryDelayMs(attempts: number, policy: BlobRetryPolicy): number {
  return Math.min(policy.firstMs * 2 ** Math.max(0, attempts - 1), policy.maxMs);
}
