import {
  asyncScheduler,
  concat,
  connect,
  EMPTY,
  filter,
  groupBy,
  map,
  mergeMap,
  of,
  startWith,
  switchMap,
  throttleTime,
  type Observable,
  type SchedulerLike,
} from 'rxjs';
import { toAppError } from '../../errors.ts';
import type { Job, JobLifecycleEvent } from '../../jobs/job.ts';
import { isTerminal } from '../../pipeline/job-event.ts';

/** What event streams show: a job let go of here (`released`) goes on elsewhere, so it is no change. */
type ShownEvent = Exclude<JobLifecycleEvent, { type: 'released' }>;

/** One Server-Sent Event: its `event:` name and its `data:` (sent as JSON). */
export interface EventMessage {
  readonly event: string;
  readonly data: unknown;
}

/**
 * The data of a lifecycle message: what happened, when, and the job fields it
 * changed (always `id` and `status`; the whole job for `queued`). A client keeps
 * a job up to date by merging `job` into what it has.
 */
export interface JobChange {
  readonly type: ShownEvent['type'];
  readonly at: string;
  readonly job: Partial<Job> & Pick<Job, 'id' | 'status'>;
  /** `attempt_failed` only: when the next attempt starts. */
  readonly retryInMs?: number;
}

export interface JobEventMessagesConfig {
  /** Least time between two progress messages of one job, in ms: at most 1000/ms per second. */
  readonly progressIntervalMs: number;
  readonly scheduler?: SchedulerLike;
}

/**
 * Lifecycle events as SSE messages. Status changes all pass, in order; progress
 * is throttled per job (the first at once, then at most one per interval, the
 * latest winning), and a progress still waiting when the job's status changes
 * is dropped, so it never follows the change. A job's group ends with the job.
 */
export function jobEventMessages(
  events$: Observable<JobLifecycleEvent>,
  config: JobEventMessagesConfig,
): Observable<EventMessage> {
  const { progressIntervalMs, scheduler = asyncScheduler } = config;
  return events$.pipe(
    filter((event): event is ShownEvent => event.type !== 'released'),
    groupBy((event) => event.job.id, { duration: (group) => group.pipe(filter(isTerminal)) }),
    mergeMap((group) =>
      group.pipe(
        connect((shared) =>
          shared.pipe(
            filter((event) => event.type !== 'progress'),
            startWith(undefined),
            // Each status change starts a fresh throttle of the progress after it.
            switchMap((change) =>
              concat(
                change === undefined ? EMPTY : of(change),
                shared.pipe(
                  filter((event) => event.type === 'progress'),
                  throttleTime(progressIntervalMs, scheduler, { leading: true, trailing: true }),
                ),
              ),
            ),
          ),
        ),
      ),
    ),
    map((event) => ({ event: event.type, data: toChange(event, new Date(scheduler.now()).toISOString()) })),
  );
}

function toChange(event: ShownEvent, at: string): JobChange {
  const { id } = event.job;
  switch (event.type) {
    case 'queued':
      return { type: event.type, at, job: event.job };
    case 'started':
      return { type: event.type, at, job: { id, status: 'running', attempts: event.attempt, error: null } };
    case 'progress':
      return { type: event.type, at, job: { id, status: 'running', progress: event.progress } };
    case 'attempt_failed':
      return {
        type: event.type,
        at,
        job: { id, status: 'running', attempts: event.attempt, error: toAppError(event.error).toJSON() },
        retryInMs: event.retryInMs,
      };
    case 'succeeded':
      return {
        type: event.type,
        at,
        job: {
          id,
          status: 'succeeded',
          attempts: event.attempt,
          output: event.result.output,
          error: null,
          finishedAt: at,
          ...(event.result.progress === undefined ? {} : { progress: event.result.progress }),
        },
      };
    case 'failed':
      return {
        type: event.type,
        at,
        job: { id, status: 'failed', attempts: event.attempt, error: toAppError(event.error).toJSON(), finishedAt: at },
      };
    case 'cancelled':
      return { type: event.type, at, job: { id, status: 'cancelled', finishedAt: at } };
  }
}
