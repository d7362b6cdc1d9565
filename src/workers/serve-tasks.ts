import { parentPort, type TransferListItem } from 'node:worker_threads';
import { AppError } from '../errors.ts';
import { deserializeError, serializeError, type FromWorker, type ToWorker } from './worker-protocol.ts';

export interface TaskContext<P> {
  /** Aborted when the main thread cancels the task. */
  readonly signal: AbortSignal;
  /** Sends a progress value to the main thread. */
  progress(value: P): void;
  /**
   * Asks the main thread (the pool's `onRequest`) for a result; `transfer` moves buffers instead of copying them.
   * Rejects with `cancelled` as soon as the task is cancelled (a late reply is dropped).
   */
  request(payload: unknown, transfer?: readonly TransferListItem[]): Promise<unknown>;
}

export interface ServeTasksOptions<R> {
  /** Buffers of a result to move to the main thread instead of copying them. */
  readonly transferOf?: (result: R) => readonly TransferListItem[];
}

/**
 * The worker side of the pool: runs one task at a time with `handler`, reports
 * progress, the result or the error, and aborts the task when asked to.
 */
export function serveTasks<T, P, R>(
  handler: (payload: T, context: TaskContext<P>) => Promise<R>,
  options: ServeTasksOptions<R> = {},
): void {
  const port = parentPort;
  if (port === null) throw new Error('serveTasks must run inside a worker thread.');
  // Abort controllers of the tasks under way, by id.
  const running = new Map<number, AbortController>();
  // Requests waiting for the main thread's reply, by id.
  const requests = new Map<number, { resolve: (result: unknown) => void; reject: (error: unknown) => void }>();
  let nextRequestId = 1;
  const send = (message: FromWorker, transfer: readonly TransferListItem[] = []) =>
    port.postMessage(message, [...transfer]);

  port.on('message', (message: ToWorker) => {
    if (message.type === 'reply') {
      const request = requests.get(message.requestId);
      requests.delete(message.requestId);
      if (message.error === undefined) request?.resolve(message.result);
      else request?.reject(deserializeError(message.error));
      return;
    }
    if (message.type === 'cancel') {
      running.get(message.taskId)?.abort(message.reason === undefined ? undefined : deserializeError(message.reason));
      return;
    }
    const { taskId } = message;
    const controller = new AbortController();
    running.set(taskId, controller);
    handler(message.payload as T, {
      signal: controller.signal,
      progress: (progress) => send({ type: 'progress', taskId, progress }),
      request: (payload, transfer) =>
        new Promise((resolve, reject) => {
          const { signal } = controller;
          if (signal.aborted) {
            reject(new AppError('cancelled', 'The job was cancelled.'));
            return;
          }
          const requestId = nextRequestId++;
          const onAbort = () => {
            requests.delete(requestId);
            reject(new AppError('cancelled', 'The job was cancelled.'));
          };
          signal.addEventListener('abort', onAbort, { once: true });
          const settled = () => signal.removeEventListener('abort', onAbort);
          requests.set(requestId, {
            resolve: (result) => {
              settled();
              resolve(result);
            },
            reject: (error) => {
              settled();
              reject(error);
            },
          });
          send({ type: 'request', taskId, requestId, payload }, transfer);
        }),
    })
      .then((result) => send({ type: 'done', taskId, result }, options.transferOf?.(result)))
      // The handler's failure, or a result that cannot be sent: either way the task fails, and says why.
      .catch((error: unknown) => send({ type: 'failed', taskId, error: serializeError(error) }))
      .finally(() => running.delete(taskId));
  });
}
