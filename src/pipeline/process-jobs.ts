import {
  asyncScheduler,
  catchError,
  concat,
  defer,
  EMPTY,
  filter,
  map,
  merge,
  mergeMap,
  NEVER,
  of,
  retry,
  take,
  takeWhile,
  tap,
  throwError,
  timer,
  type Observable,
  type SchedulerLike,
} from 'rxjs';
import { AppError, isRetryable as isRetryableError } from '../errors.ts';
import { endsRun, type JobEvent, type RunJob, type RunUpdate } from './job-event.ts';
import type { JobSource } from './job-queue.ts';

export interface ProcessJobsConfig<J> {
  /** Jobs run at once: the `mergeMap` limit (`JOB_CONCURRENCY`). */
  readonly concurrency: number;
  /** Attempts per job, the first included (`JOB_MAX_ATTEMPTS`). */
  readonly maxAttempts: number;
  /** Delay in ms before the n-th retry (1-based). */
  readonly backoff: (retry: number) => number;
  /** Which errors are tried again. Default: `AppError`s marked retryable. */
  readonly isRetryable?: (error: unknown) => boolean;
  /** Attempts a job already used (e.g. before a restart). Default 0. */
  readonly priorAttempts?: (job: J) => number;
  /** Where backoff timers run. Default `asyncScheduler`; tests pass a virtual one. */
  readonly scheduler?: SchedulerLike;
}

/**
 * The reactive core: runs each job from `source` through `runJob`, at most
 * `concurrency` at once. Retries (backoff, retryable errors only) and the final
 * `catchError` live inside each job's inner observable, so a failed job becomes a
 * `failed` event and the stream goes on with the next job. A job ends with one
 * terminal event, or (released by its source) with `released` and no terminal event.
 */
export function processJobs<J extends { readonly id: string }, P, R>(
  source: JobSource<J>,
  runJob: RunJob<J, P, R>,
  config: ProcessJobsConfig<J>,
): Observable<JobEvent<J, P, R>> {
  const {
    concurrency,
    maxAttempts,
    backoff,
    isRetryable = isRetryableError,
    priorAttempts = () => 0,
    scheduler = asyncScheduler,
  } = config;

  const run$ = source.jobs$.pipe(mergeMap((job) => defer(() => runOne(job)), concurrency));
  if (source.withdrawn$ === undefined) return run$;
  // A job cancelled while it waits is reported at once, not when its turn comes.
  const withdrawn$ = source.withdrawn$.pipe(
    map((job): JobEvent<J, P, R> => ({ type: 'cancelled', job, attempt: priorAttempts(job) })),
  );
  return merge(run$, withdrawn$);

  function runOne(job: J): Observable<JobEvent<J, P, R>> {
    // Attempt number of the attempt under way (or last made).
    let attempt = priorAttempts(job);
    // Set as the job is released, before its attempt is unsubscribed (the runner asks at teardown).
    let released = false;
    const claim = source.claim(job);
    if (claim === 'held') return EMPTY;
    if (claim === 'cancelled') return source.withdrawn$ === undefined ? of({ type: 'cancelled', job, attempt }) : EMPTY;
    // Delay chosen for the next retry, shared by the event and the timer.
    let retryInMs = 0;
    const retriesLeft = Math.max(0, maxAttempts - attempt - 1);

    const attempts$ = defer(() => {
      attempt += 1;
      const current = attempt;
      // Whether this attempt delivered its result.
      let done = false;
      const run$ = defer(() => runJob(job, { attempt: current, released: () => released })).pipe(
        map((update: RunUpdate<P, R>): JobEvent<J, P, R> =>
          update.kind === 'progress'
            ? { type: 'progress', job, attempt: current, progress: update.progress }
            : { type: 'succeeded', job, attempt: current, result: update.result },
        ),
        takeWhile((event) => event.type !== 'succeeded', true),
        tap((event) => {
          done ||= event.type === 'succeeded';
        }),
      );
      const noResult$ = defer(() =>
        done ? EMPTY : throwError(() => new AppError('internal', `The job ${job.id} ended without a result.`)),
      );
      return concat(
        of<JobEvent<J, P, R>>({ type: 'started', job, attempt: current }),
        concat(run$, noResult$).pipe(
          catchError((error: unknown) => {
            if (!isRetryable(error) || current >= maxAttempts) return throwError(() => error);
            retryInMs = backoff(current - priorAttempts(job));
            return concat(
              of<JobEvent<J, P, R>>({ type: 'attempt_failed', job, attempt: current, error, retryInMs }),
              throwError(() => error),
            );
          }),
        ),
      );
    }).pipe(
      retry({
        count: retriesLeft,
        delay: (error: unknown) => (isRetryable(error) ? timer(retryInMs, scheduler) : throwError(() => error)),
      }),
      catchError((error: unknown) => of<JobEvent<J, P, R>>({ type: 'failed', job, attempt, error })),
    );

    const cancelled$ = source.cancels$.pipe(
      filter((id) => id === job.id),
      take(1),
      map((): JobEvent<J, P, R> => ({ type: 'cancelled', job, attempt })),
    );

    // Let go of (another instance holds the job now): the attempt is unsubscribed and nothing ends it here.
    const released$ = (source.releases$ ?? NEVER).pipe(
      filter((id) => id === job.id),
      take(1),
      map((): JobEvent<J, P, R> => {
        released = true;
        return { type: 'released', job, attempt };
      }),
    );

    return merge(attempts$, cancelled$, released$).pipe(takeWhile((event) => !endsRun(event), true));
  }
}
