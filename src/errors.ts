/**
 * The one error type of the service. Every failure that leaves a module is an
 * `AppError` with a code from the closed catalogue below; third-party errors
 * (S3, csv-parse, zod, lib-storage) are translated where they are first seen,
 * and kept as `cause`.
 *
 * `status` and `expose` follow koa's contract (`ctx.throw`), `retryable` is what
 * the pipeline's retry policy reads — never a message string.
 */

interface CodeSpec {
  /** HTTP status when the error answers a request. */
  readonly status: number;
  /** Whether a job attempt that failed with it is tried again. */
  readonly retryable: boolean;
  /** Whether its message may be shown to a client (koa's `expose`). */
  readonly expose: boolean;
  /** One line for the README's error table. */
  readonly description: string;
}

export const ERROR_CODES = {
  invalid_json: { status: 400, retryable: false, expose: true, description: 'The request body is not valid JSON.' },
  validation_failed: {
    status: 400,
    retryable: false,
    expose: true,
    description: 'The request does not match any accepted shape; `details` lists the problems.',
  },
  invalid_key: {
    status: 400,
    retryable: false,
    expose: true,
    description:
      'The object key breaks a key rule (length, control characters, a leading `/`, an empty, `.` or `..` segment, or under OUTPUT_PREFIX); the message names the rule.',
  },
  unknown_pipeline: {
    status: 400,
    retryable: false,
    expose: true,
    description: 'The trigger names a pipeline that is not defined.',
  },
  unauthorized: { status: 401, retryable: false, expose: true, description: 'Missing or wrong bearer token.' },
  forbidden: {
    status: 403,
    retryable: false,
    expose: true,
    description:
      'The request is authenticated but not allowed (for example an SNS message whose signature does not verify).',
  },
  bucket_not_allowed: {
    status: 403,
    retryable: false,
    expose: true,
    description: 'The trigger or upload names a bucket that is not in ALLOWED_BUCKETS.',
  },
  access_denied: {
    status: 403,
    retryable: false,
    expose: true,
    description: 'S3 refused access to the object or bucket.',
  },
  not_found: { status: 404, retryable: false, expose: true, description: 'No such route, job or output.' },
  no_such_key: { status: 404, retryable: false, expose: true, description: 'The source object does not exist.' },
  no_such_bucket: { status: 404, retryable: false, expose: true, description: 'The bucket does not exist.' },
  method_not_allowed: {
    status: 405,
    retryable: false,
    expose: true,
    description: 'The route exists but not for this method.',
  },
  upload_timeout: {
    status: 408,
    retryable: false,
    expose: true,
    description: 'The upload took longer than UPLOAD_TIMEOUT_MS; the partial upload was aborted.',
  },
  client_disconnected: {
    status: 499,
    retryable: false,
    expose: true,
    description:
      'The client closed the connection before its request body was complete; nothing of it was stored (logged and counted, the client never sees it).',
  },
  duplicate_job: {
    status: 409,
    retryable: true,
    expose: true,
    description:
      'Another instance stored a job for the same object and pipeline at the same moment; the trigger is answered with that job, or may be sent again.',
  },
  job_finished: {
    status: 409,
    retryable: false,
    expose: true,
    description: 'The job has already finished and cannot be cancelled.',
  },
  payload_too_large: {
    status: 413,
    retryable: false,
    expose: true,
    description: 'The request body is over its size limit.',
  },
  unsupported_media_type: {
    status: 415,
    retryable: false,
    expose: true,
    description: 'The request body has the wrong content type.',
  },
  csv_invalid: {
    status: 422,
    retryable: false,
    expose: true,
    description:
      'The CSV cannot be parsed (unterminated quote, record over the size limit); the message names the line.',
  },
  missing_column: {
    status: 422,
    retryable: false,
    expose: true,
    description: 'The header row lacks a column the pipeline requires.',
  },
  too_many_rejects: {
    status: 422,
    retryable: false,
    expose: true,
    description: "More records were rejected than the pipeline's maxRejected.",
  },
  transform_failed: {
    status: 422,
    retryable: false,
    expose: true,
    description:
      "A pipeline's transform module threw (the message names the module, the line and the error), or did not load.",
  },
  queue_full: {
    status: 429,
    retryable: false,
    expose: true,
    description: 'The job queue is at QUEUE_CAPACITY; retry after the Retry-After seconds.',
  },
  cancelled: { status: 409, retryable: false, expose: true, description: 'The job was cancelled.' },
  lease_lost: {
    status: 409,
    retryable: false,
    expose: true,
    description:
      "Another instance holds the job now (this instance's lease on it ran out): the attempt here was stopped and its outputs left to that instance.",
  },
  sns_unreachable: {
    status: 502,
    retryable: true,
    expose: true,
    description:
      'A verified SNS SubscriptionConfirmation could not be confirmed (its SubscribeURL did not answer 200); SNS delivers it again.',
  },
  s3_unavailable: {
    status: 503,
    retryable: true,
    expose: true,
    description: 'S3 answered 5xx, reset the connection or timed out.',
  },
  s3_throttled: {
    status: 503,
    retryable: true,
    expose: true,
    description: 'S3 asked to slow down (SlowDown, 503 throttling).',
  },
  source_changed: {
    status: 409,
    retryable: true,
    expose: true,
    description: 'The source object changed while it was being read.',
  },
  server_busy: {
    status: 503,
    retryable: true,
    expose: true,
    description:
      'A limit on work at once is reached (SSE_MAX_CLIENTS event streams, 8 output downloads, UPLOAD_CONCURRENCY uploads); retry after the Retry-After seconds.',
  },
  store_unavailable: {
    status: 503,
    retryable: true,
    expose: true,
    description:
      'The job store (PostgreSQL) cannot be reached, so a trigger or upload queued no job; retry after the Retry-After seconds.',
  },
  shutting_down: {
    status: 503,
    retryable: true,
    expose: true,
    description: 'The service is shutting down and accepts no new work.',
  },
  worker_crashed: {
    status: 500,
    retryable: true,
    expose: false,
    description: 'The worker thread running the job died.',
  },
  config_invalid: { status: 500, retryable: false, expose: false, description: 'The configuration is invalid.' },
  internal: { status: 500, retryable: false, expose: false, description: 'An unexpected internal fault.' },
} as const satisfies Record<string, CodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface AppErrorOptions {
  /** Structured details for the client, e.g. validation issues. */
  readonly details?: readonly unknown[];
  /** The error this one translates. */
  readonly cause?: unknown;
  /** Overrides the code's default retryability. */
  readonly retryable?: boolean;
  /** Response headers to send with the error (e.g. `Retry-After`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The physical line of the CSV the error is about, 1-based (a csv error names it in its message too). */
  readonly line?: number;
}

/** An `AppError` as plain data: a job's `error` in its JSON, and what crosses a thread. */
export interface AppErrorJson {
  readonly code: ErrorCode;
  readonly message: string;
  readonly retryable: boolean;
  /** Set when the error is about one line of the CSV. */
  readonly line?: number;
}

export class AppError extends Error {
  override readonly name = 'AppError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  readonly retryable: boolean;
  readonly details: readonly unknown[] | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly line: number | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const spec: CodeSpec = ERROR_CODES[code];
    this.code = code;
    this.status = spec.status;
    this.expose = spec.expose;
    this.retryable = options.retryable ?? spec.retryable;
    this.details = options.details;
    this.headers = options.headers;
    this.line = options.line;
  }

  /** The error again from its JSON form (its stack and cause do not travel). */
  static fromJSON(json: AppErrorJson): AppError {
    return new AppError(json.code, json.message, { retryable: json.retryable, line: json.line });
  }

  /** The job / API JSON form of the error. */
  toJSON(): AppErrorJson {
    const json = { code: this.code, message: this.message, retryable: this.retryable };
    return this.line === undefined ? json : { ...json, line: this.line };
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** Whether a job attempt that failed with `error` should be tried again. */
export function isRetryable(error: unknown): boolean {
  return isAppError(error) && error.retryable;
}

/**
 * The one `cancelled` error: a job stopped through the API, or a read, write or
 * task torn down with it. `what` names what was under way (`reading s3://a/b.csv`);
 * without it the job itself was stopped. `cause` is the abort reason, if any.
 */
export function cancelledError(what?: string, cause?: unknown): AppError {
  const message = what === undefined ? 'The job was cancelled.' : `Cancelled while ${what}.`;
  return new AppError('cancelled', message, cause === undefined ? {} : { cause });
}

/** Any thrown value as an `AppError`; unknown errors become `internal`. */
export function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AppError('internal', message || 'An unexpected internal fault.', { cause: error });
}
