import { AppError, ERROR_CODES, type AppErrorJson, type ErrorCode } from '../errors.ts';

/** Messages between the main thread and a job worker. */
export type ToWorker =
  | { readonly type: 'run'; readonly taskId: number; readonly payload: unknown }
  | { readonly type: 'cancel'; readonly taskId: number; readonly reason?: SerializedError }
  | { readonly type: 'reply'; readonly requestId: number; readonly result?: unknown; readonly error?: SerializedError };

/** A task's `request` asks the main thread for work done elsewhere (a block parsed on the parse pool). */
export type FromWorker =
  | { readonly type: 'request'; readonly taskId: number; readonly requestId: number; readonly payload: unknown }
  | { readonly type: 'progress'; readonly taskId: number; readonly progress: unknown }
  | { readonly type: 'done'; readonly taskId: number; readonly result: unknown }
  | { readonly type: 'failed'; readonly taskId: number; readonly error: SerializedError };

export interface SerializedError extends AppErrorJson {
  readonly stack?: string;
}

/** An error as it crosses the thread boundary: its code, message and retryability survive. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof AppError) return error.toJSON();
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: 'internal',
    message,
    retryable: false,
    ...(error instanceof Error && error.stack ? { stack: error.stack } : {}),
  };
}

export function deserializeError(error: SerializedError): AppError {
  const code: ErrorCode = error.code in ERROR_CODES ? error.code : 'internal';
  const revived = AppError.fromJSON({ ...error, code });
  if (error.stack) revived.stack = error.stack;
  return revived;
}
