/**
 * What a failed call to the store means for the caller, from the error alone:
 *
 * * `conflict`: a condition failed (`ConditionalCheckFailedException`, a transaction canceled
 *   for `ConditionalCheckFailed` or `TransactionConflict`, the store's `ConflictError`). Someone
 *   else wrote first, or an earlier attempt of ours did: a transaction whose response was lost
 *   but which landed fails its own version condition when sent again. Reload and re-plan; the
 *   re-plan finds that work done.
 * * `transient`: throttling, a 5xx, a timeout or a broken connection. The same call may well
 *   succeed a moment later: retry after a backoff (whether it landed or not, the re-plan is
 *   exact, see `conflict`).
 * * `permanent`: anything else (invalid input, a missing catalog, a bug). Retrying cannot help.
 *
 * The names and codes follow the AWS SDK's own classification (`@smithy/core` retry: throttling
 * codes, transient codes, Node.js network error codes, HTTP 429 and 500–504), which already
 * retries each request below this layer.
 */
export type ErrorClass = 'conflict' | 'transient' | 'permanent';

const THROTTLING_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'TransactionInProgressException',
  'PriorRequestNotComplete',
  'SlowDown',
]);

const TRANSIENT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'InternalServerError', 'InternalFailure', 'ServiceUnavailable', 'ServiceUnavailableException']);

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** Cancellation reasons of a transaction that a later attempt of the same writes may not meet. */
const TRANSIENT_REASONS = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  cause?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  CancellationReasons?: Array<{ Code?: unknown } | undefined>;
}

/** Classifies an error thrown by the store or the SDK beneath it (see `ErrorClass`). */
export function classifyError(error: unknown, depth = 0): ErrorClass {
  if (typeof error !== 'object' || error === null) return 'permanent';
  const shape = error as ErrorShape;
  const name = typeof shape.name === 'string' ? shape.name : '';
  if (name === 'ConflictError' || name === 'ConditionalCheckFailedException') return 'conflict';
  if (name === 'TransactionCanceledException') {
    const codes = (shape.CancellationReasons ?? []).map((reason) => reason?.Code);
    // A failed condition or a concurrent transaction decides: the re-plan must see the current state.
    if (codes.includes('ConditionalCheckFailed') || codes.includes('TransactionConflict')) return 'conflict';
    return codes.some((code) => typeof code === 'string' && TRANSIENT_REASONS.has(code)) ? 'transient' : 'permanent';
  }
  if (name === 'AbortError') return 'permanent';
  if (THROTTLING_NAMES.has(name) || TRANSIENT_NAMES.has(name)) return 'transient';
  if (typeof shape.code === 'string' && NETWORK_CODES.has(shape.code)) return 'transient';
  if (shape.$retryable !== undefined) return 'transient';
  const status = shape.$metadata?.httpStatusCode;
  if (typeof status === 'number' && (status === 429 || (status >= 500 && status <= 599))) return 'transient';
  // The SDK wraps some network failures; the cause says what happened.
  if (shape.cause !== undefined && depth < 10) return classifyError(shape.cause, depth + 1);
  return 'permanent';
}

/** True when retrying (after re-planning, and after a backoff) may succeed. */
export function isRetryable(error: unknown): boolean {
  return classifyError(error) !== 'permanent';
}
