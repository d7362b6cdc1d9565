import { DEFAULT_RETRY_AFTER_SECONDS } from '../config/config.ts';
import { AppError } from '../errors.ts';

/** Socket-level failures: the server is down, restarting, or not reachable. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs that say the server, not the statement, is the problem: 57P01 admin
 * shutdown (a stop or failover), 57P02 crash shutdown, 57P03 starting up, 53300
 * too many connections; class 08 is "connection exception".
 */
const SERVER_STATES: ReadonlySet<string> = new Set(['57P01', '57P02', '57P03', '53300']);

/**
 * node-postgres reports a dropped or timed-out connection by message only
 * ("Connection terminated unexpectedly", "Connection terminated due to connection
 * timeout", "timeout exceeded when trying to connect", "Client has encountered a
 * connection error and is not queryable").
 */
const CONNECTION_MESSAGE = /connection terminated|timeout exceeded when trying to connect|connection error/i;

/** Whether `error` says the database cannot be reached now (as opposed to a bad statement). */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // A host name with several addresses (localhost: ::1 and 127.0.0.1) fails with every attempt's error.
  if (error instanceof AggregateError && error.errors.some(isConnectionError)) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || SERVER_STATES.has(code) || code.startsWith('08')))
    return true;
  return CONNECTION_MESSAGE.test(error.message);
}

/**
 * The one place where the PostgreSQL store's failures become `AppError`s: an
 * unreachable database is `store_unavailable` (503, with `Retry-After`), which
 * callers may retry; anything else is `internal`. `doing` completes "The job
 * store could not …".
 */
export function translatePostgresError(
  error: unknown,
  doing: string,
  retryAfterSeconds = DEFAULT_RETRY_AFTER_SECONDS,
): AppError {
  if (error instanceof AppError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  if (isConnectionError(error)) {
    return new AppError('store_unavailable', `The job store cannot be reached to ${doing} (${reason}).`, {
      cause: error,
      headers: { 'Retry-After': String(retryAfterSeconds) },
    });
  }
  return new AppError('internal', `The job store could not ${doing}: ${reason}`, { cause: error });
}
