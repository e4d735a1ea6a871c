/**
 * Retries with exponential backoff and full jitter. A small helper rather than `p-retry`:
 * p-retry 5 and later ship as ES modules only (this project is CommonJS, Jest runs it through
 * SWC), version 4 is no longer maintained, and neither has full jitter nor lets a test inject
 * the sleep and the random source.
 */

/** How a failed operation is retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** The first retry waits up to this long; each later one up to twice as long as the one before. */
  baseDelayMs: number;
  /** No wait is longer than this, however many attempts came before. */
  maxDelayMs: number;
  /** Waits: a timer when deployed; tests pass one that only records the delay. */
  sleep: (ms: number) => Promise<void>;
  /** Uniform in [0, 1): `Math.random` when deployed, a seeded generator in tests. */
  random: () => number;
}

/**
 * The jobs' policy: 6 attempts, waiting at most 0.25, 0.5, 1, 2 and 4 s (about 3.9 s on
 * average in all) before them. Below it the AWS SDK already retries each request 3 times, so this
 * layer sees what outlasted those: a throttled table or partition, a network that stayed down for
 * a moment. Bounded so that a run of 15 minutes is never spent waiting.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 6,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

/**
 * The wait before retry `retry` (1 for the first): full jitter, uniform between 0 and the
 * exponential ceiling. Spreading the waits over the whole range, rather than around the ceiling,
 * keeps workspaces that failed together (one throttled moment) from retrying together.
 */
export function backoffDelay(policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs' | 'random'>, retry: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(policy.random() * ceiling);
}

/**
 * Runs `work`; when it throws an error `retryable` accepts, waits (`backoffDelay`) and runs it
 * again, at most `policy.attempts` times in all. Any other error, or the last attempt's, is thrown
 * as it is. `onRetry` hears of each retry before its wait (to count or log them).
 */
export async function retryWithBackoff<T>(
  work: () => Promise<T>,
  policy: RetryPolicy,
  retryable: (error: unknown) => boolean,
  onRetry: (error: unknown, retry: number, delayMs: number) => void = () => undefined,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= policy.attempts || !retryable(error)) throw error;
      const delay = backoffDelay(policy, attempt);
      onRetry(error, attempt, delay);
      await policy.sleep(delay);
    }
  }
}
