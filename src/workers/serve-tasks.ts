import { parentPort } from 'node:worker_threads';
import { serializeError, type FromWorker, type ToWorker } from './worker-protocol.ts';

export interface TaskContext<P> {
  /** Aborted when the main thread cancels the task. */
  readonly signal: AbortSignal;
  /** Sends a progress value to the main thread. */
  progress(value: P): void;
}

/**
 * The worker side of the pool: runs one task at a time with `handler`, reports
 * progress, the result or the error, and aborts the task when asked to.
 */
export function serveTasks<T, P, R>(handler: (payload: T, context: TaskContext<P>) => Promise<R>): void {
  const port = parentPort;
  if (port === null) throw new Error('serveTasks must run inside a worker thread.');
  // Abort controllers of the tasks under way, by id.
  const running = new Map<number, AbortController>();
  const send = (message: FromWorker) => port.postMessage(message);

  port.on('message', (message: ToWorker) => {
    if (message.type === 'cancel') {
      running.get(message.taskId)?.abort();
      return;
    }
    const { taskId } = message;
    const controller = new AbortController();
    running.set(taskId, controller);
    handler(message.payload as T, {
      signal: controller.signal,
      progress: (progress) => send({ type: 'progress', taskId, progress }),
    }).then(
      (result) => send({ type: 'done', taskId, result }),
      (error: unknown) => send({ type: 'failed', taskId, error: serializeError(error) }),
    ).finally(() => running.delete(taskId));
  });
}
