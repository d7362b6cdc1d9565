import type { WorkerPool } from '../workers/worker-pool.ts';
import type { Job, JobProgress } from './job.ts';
import { observeAttempts, type AttemptRunner } from './observe-attempts.ts';

export type ThreadedJobRunner<R> = AttemptRunner<R>;

/**
 * Runs each job attempt in a worker of `pool`: progress messages become
 * `progress` updates, the worker's result the one `done`. Unsubscribing (cancel,
 * shutdown) cancels the worker's task: its streams are destroyed and its uploads
 * aborted there. A crashed worker fails the attempt as retryable `worker_crashed`.
 */
export function createThreadedJobRunner<R>(
  pool: WorkerPool<{ job: Job; attempt: number }, JobProgress, R>,
): ThreadedJobRunner<R> {
  return observeAttempts((job, { signal, attempt, onProgress }) => pool.run({ job, attempt }, { signal, onProgress }));
}
