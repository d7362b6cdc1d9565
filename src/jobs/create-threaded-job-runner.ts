import { Observable } from 'rxjs';
import type { RunJob, RunUpdate } from '../pipeline/job-event.ts';
import type { WorkerPool } from '../workers/worker-pool.ts';
import type { Job, JobProgress } from './job.ts';

/** `runJob` over a pool of worker threads, plus a way to wait for torn-down attempts. */
export type ThreadedJobRunner<R> = RunJob<Job, JobProgress, R> & {
  /** Resolves once every attempt started so far has settled in its worker (clean-up included). */
  drain(): Promise<void>;
};

/**
 * Runs each job attempt in a worker of `pool`: progress messages become
 * `progress` updates, the worker's result the one `done`. Unsubscribing (cancel,
 * shutdown) cancels the worker's task: its streams are destroyed and its uploads
 * aborted there. A crashed worker fails the attempt as retryable `worker_crashed`.
 */
export function createThreadedJobRunner<R>(pool: WorkerPool<{ job: Job; attempt: number }, JobProgress, R>): ThreadedJobRunner<R> {
  // Attempts started and not yet settled.
  const running = new Set<Promise<unknown>>();

  const runJob: RunJob<Job, JobProgress, R> = (job, { attempt }) =>
    new Observable<RunUpdate<JobProgress, R>>((subscriber) => {
      const controller = new AbortController();
      const settled = pool
        .run({ job, attempt }, { signal: controller.signal, onProgress: (progress) => subscriber.next({ kind: 'progress', progress }) })
        .then(
          (result) => {
            subscriber.next({ kind: 'done', result });
            subscriber.complete();
          },
          (error: unknown) => subscriber.error(error),
        )
        .finally(() => running.delete(settled));
      running.add(settled);
      return () => controller.abort();
    });

  async function drain(): Promise<void> {
    while (running.size > 0) await Promise.allSettled([...running]);
  }

  return Object.assign(runJob, { drain });
}
