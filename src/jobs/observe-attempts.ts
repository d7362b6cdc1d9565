import { Observable } from 'rxjs';
import { AppError, cancelledError, toAppError } from '../errors.ts';
import type { RunJob, RunUpdate } from '../pipeline/job-event.ts';
import type { Job, JobProgress } from './job.ts';

/** One attempt of a job as a promise: aborting `signal` stops it. */
export type AttemptRun<R> = (
  job: Job,
  options: {
    readonly signal: AbortSignal;
    readonly attempt: number;
    readonly onProgress: (progress: JobProgress) => void;
  },
) => Promise<R>;

/** `runJob` for the pipeline, plus a way to wait for torn-down attempts (shutdown, specs). */
export type AttemptRunner<R> = RunJob<Job, JobProgress, R> & {
  /** Resolves once every attempt started so far has settled, its clean-up included. */
  drain(): Promise<void>;
};

/**
 * The Observable boundary of a job: each subscription runs one attempt, its
 * progress becomes `progress` updates and its result the one `done`.
 * Unsubscribing aborts the attempt; its clean-up goes on, and `drain()` waits for it.
 */
export function observeAttempts<R>(run: AttemptRun<R>): AttemptRunner<R> {
  // Attempts started and not yet settled (clean-up included).
  const running = new Set<Promise<void>>();

  const runJob: RunJob<Job, JobProgress, R> = (job, { attempt, released }) =>
    new Observable<RunUpdate<JobProgress, R>>((subscriber) => {
      const controller = new AbortController();
      const settled: Promise<void> = run(job, {
        signal: controller.signal,
        attempt,
        onProgress: (progress) => subscriber.next({ kind: 'progress', progress }),
      })
        .then(
          (result) => {
            subscriber.next({ kind: 'done', result });
            subscriber.complete();
          },
          (error: unknown) => subscriber.error(toAppError(error)),
        )
        .finally(() => running.delete(settled));
      running.add(settled);
      return () =>
        controller.abort(
          released()
            ? new AppError('lease_lost', `Another instance holds the job ${job.id} now; stopped here.`)
            : cancelledError(`running job ${job.id}`),
        );
    });

  async function drain(): Promise<void> {
    while (running.size > 0) await Promise.allSettled([...running]);
  }

  return Object.assign(runJob, { drain });
}
