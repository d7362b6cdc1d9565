import {
  asyncScheduler,
  buffer,
  catchError,
  concatMap,
  connect,
  defer,
  EMPTY,
  endWith,
  filter,
  from,
  ignoreElements,
  map,
  merge,
  mergeMap,
  takeUntil,
  throttleTime,
  type Observable,
  type SchedulerLike,
} from 'rxjs';
import { AppError } from '../errors.ts';
import type { Job, JobLifecycleEvent } from './job.ts';

export interface FollowJobChangesDeps {
  /** Ids of jobs whose rows changed, as change notifications bring them (any instance's writes). */
  readonly hints$: Observable<readonly string[]>;
  /** Reads the rows of those jobs. */
  readonly fetchJobs: (ids: readonly string[]) => Promise<readonly Job[]>;
  /** `INSTANCE_ID`: the jobs running here are followed through this instance's own events. */
  readonly runner: string;
  /** Hints gathered this long are read in one query. Default 100 ms. */
  readonly batchMs?: number;
  /** A read failed; the next hint reads again. */
  readonly onError?: (error: unknown) => void;
  readonly scheduler?: SchedulerLike;
}

/** What this instance last showed of a job. */
interface Shown {
  readonly attempt: number;
  readonly running: boolean;
  readonly finished: boolean;
  /** The last progress shown, as JSON. */
  readonly progress?: string;
}

/** Jobs remembered at most; the oldest are forgotten first. */
const MAX_SHOWN = 10_000;

/**
 * Every job's lifecycle as this instance's event streams show it: its own events,
 * and lifecycle events made from the rows of jobs that change elsewhere (run on
 * another instance, cancelled through another). Each change is shown once: a
 * change this instance already showed (its own event, or the same row read
 * again) is dropped, and nothing follows a job's final event. A release is no
 * change (the job goes on elsewhere). These events are for showing, never for
 * recording: the instance that made a change recorded it.
 */
export function followJobChanges(
  local$: Observable<JobLifecycleEvent>,
  deps: FollowJobChangesDeps,
): Observable<JobLifecycleEvent> {
  const { hints$, fetchJobs, runner, batchMs = 100, onError, scheduler = asyncScheduler } = deps;
  return defer(() => {
    const shown = new Map<string, Shown>();
    const remote$ = hints$.pipe(
      connect((shared) =>
        shared.pipe(buffer(shared.pipe(throttleTime(batchMs, scheduler, { leading: false, trailing: true })))),
      ),
      map((batches) => [...new Set(batches.flat())]),
      filter((ids) => ids.length > 0),
      concatMap((ids) =>
        from(fetchJobs(ids)).pipe(
          catchError((error: unknown) => {
            onError?.(error);
            return EMPTY;
          }),
        ),
      ),
      // A job running here is shown through this instance's own events.
      mergeMap((jobs) =>
        jobs
          .filter((job) => !(job.status === 'running' && job.runner === runner))
          // A job first seen here is introduced whole (as `queued` is), whatever it has become since.
          .flatMap((job): JobLifecycleEvent[] => [{ type: 'queued', job }, ...eventsOf(job)]),
      ),
    );
    // Ends with this instance's lifecycle stream (shutdown), which ends the event streams.
    return local$.pipe(
      connect((own$) =>
        merge(own$, remote$.pipe(takeUntil(own$.pipe(ignoreElements(), endWith(true))))).pipe(
          filter((event) => isNew(event, shown)),
        ),
      ),
    );
  });
}

/** The events a row stands for; `isNew` keeps those not shown yet. */
function eventsOf(job: Job): JobLifecycleEvent[] {
  const attempt = job.attempts;
  switch (job.status) {
    case 'queued':
      return [];
    case 'running':
      // Claimed and not yet started: nothing to show until its start is recorded.
      return attempt === 0
        ? []
        : [
            { type: 'started', job, attempt },
            { type: 'progress', job, attempt, progress: job.progress },
          ];
    case 'succeeded':
      return job.output === null
        ? []
        : [{ type: 'succeeded', job, attempt, result: { output: job.output, progress: job.progress } }];
    case 'failed': {
      const { code, message, retryable } = job.error ?? {
        code: 'internal',
        message: `The job ${job.id} failed.`,
        retryable: false,
      };
      return [{ type: 'failed', job, attempt, error: new AppError(code, message, { retryable }) }];
    }
    case 'cancelled':
      return [{ type: 'cancelled', job, attempt }];
  }
}

/** Whether `event` shows something not shown yet; if so, remembers it. */
function isNew(event: JobLifecycleEvent, shown: Map<string, Shown>): boolean {
  const id = event.job.id;
  const last = shown.get(id);
  const remember = (next: Shown) => {
    if (last === undefined && shown.size >= MAX_SHOWN) shown.delete(shown.keys().next().value!);
    shown.set(id, next);
    return true;
  };
  if (last?.finished) return false;
  switch (event.type) {
    case 'released':
      return false;
    case 'queued':
      return last === undefined && remember({ attempt: event.job.attempts, running: false, finished: false });
    case 'started':
      if (last !== undefined && last.running && last.attempt >= event.attempt) return false;
      return remember({ attempt: event.attempt, running: true, finished: false });
    case 'progress': {
      const progress = JSON.stringify(event.progress);
      if (last?.progress === progress) return false;
      return remember({ ...(last ?? { attempt: event.attempt, running: true, finished: false }), progress });
    }
    case 'attempt_failed':
      return true;
    default:
      // succeeded, failed, cancelled: the job's last change.
      return remember({ attempt: event.attempt, running: false, finished: true });
  }
}
