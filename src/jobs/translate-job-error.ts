import { AppError, cancelledError, isAppError, toAppError } from '../errors.ts';

/**
 * The error a CSV job attempt ends with. A cancelled attempt is `cancelled`
 * (or `lease_lost`, when stopped because another instance holds the job now)
 * whatever its streams reported while being torn down; a gzip stream that does
 * not inflate is `csv_invalid`; adapters already translated S3 and CSV errors.
 */
export function translateJobError(error: unknown, signal: AbortSignal): AppError {
  if (signal.aborted) {
    return isAppError(signal.reason) && (signal.reason.code === 'cancelled' || signal.reason.code === 'lease_lost')
      ? signal.reason
      : cancelledError(undefined, signal.reason);
  }
  if (isAppError(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new AppError('csv_invalid', `The object is not valid gzip data: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if ((error as { name?: unknown } | null)?.name === 'AbortError') return cancelledError(undefined, error);
  return toAppError(error);
}
