import { AppError, cancelledError, isAppError } from '../errors.ts';

/** What an AWS SDK error carries that the translation reads. */
interface SdkErrorShape {
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
  readonly $fault?: 'client' | 'server';
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly $retryable?: { readonly throttling?: boolean };
}

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound', 'NoSuchVersion']);
const DENIED = new Set([
  'AccessDenied',
  'Forbidden',
  'AllAccessDisabled',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccountProblem',
  'InvalidObjectState',
]);
const THROTTLED = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'ProvisionedThroughputExceededException',
]);
const TRANSIENT = new Set([
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestAbortedError',
]);
const NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'ERR_HTTP2_STREAM_ERROR',
]);

/**
 * An error seen while talking to S3 as an `AppError` (the original kept as
 * `cause`). `what` says what was being done, e.g. `reading s3://ingest/a.csv`.
 * Missing key or bucket and refused access are final; 5xx, throttling, resets
 * and timeouts are retryable; an abort (ours, or lib-storage's `AbortError`) is
 * `cancelled`. Anything else is `internal`.
 */
export function translateS3Error(error: unknown, what: string): AppError {
  if (isAppError(error)) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const name = e.name ?? '';
  const code = e.code ?? '';
  const status = e.$metadata?.httpStatusCode;
  const detail = `${name || code || 'Error'}${e.message ? `: ${e.message}` : ''}`;
  const options = { cause: error };

  if (name === 'AbortError' || code === 'ABORT_ERR') return cancelledError(what, error);
  if (NOT_FOUND.has(name) || (status === 404 && name !== 'NoSuchBucket')) {
    return new AppError('no_such_key', `The object does not exist (${what}): ${detail}`, options);
  }
  if (name === 'NoSuchBucket')
    return new AppError('no_such_bucket', `The bucket does not exist (${what}): ${detail}`, options);
  if (DENIED.has(name) || status === 403)
    return new AppError('access_denied', `S3 refused access (${what}): ${detail}`, options);
  if (name === 'PreconditionFailed' || status === 412) {
    return new AppError('source_changed', `The object changed (${what}): ${detail}`, options);
  }
  if (THROTTLED.has(name) || status === 429 || e.$retryable?.throttling === true) {
    return new AppError('s3_throttled', `S3 asked to slow down (${what}): ${detail}`, options);
  }
  if (
    TRANSIENT.has(name) ||
    NETWORK.has(code) ||
    NETWORK.has(name) ||
    (status !== undefined && status >= 500) ||
    e.$fault === 'server' ||
    e.$retryable !== undefined ||
    /socket hang up|aborted/i.test(e.message ?? '')
  ) {
    return new AppError('s3_unavailable', `S3 could not be reached or failed (${what}): ${detail}`, options);
  }
  return new AppError('internal', `Unexpected S3 error (${what}): ${detail}`, options);
}
