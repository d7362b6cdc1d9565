import type { Observable } from 'rxjs';

/**
 * What the pipeline says about a job while it runs: the lifecycle stream. The job
 * store and the logger subscribe to it; its failures (`attempt_failed`, `failed`)
 * are the error channel.
 */

/** What a running attempt reports. `runJob` emits progress updates, then one `done`. */
export type RunUpdate<P, R> =
  { readonly kind: 'progress'; readonly progress: P } | { readonly kind: 'done'; readonly result: R };

export interface RunContext {
  /** 1-based number of this attempt, counting attempts made before a restart. */
  readonly attempt: number;
  /**
   * Asked when the attempt is unsubscribed: true when it stops because the job was
   * released (another instance holds it now), so its outputs are that instance's
   * and must be left as they are; false for a cancel or a shutdown.
   */
  readonly released: () => boolean;
}

/**
 * Runs one attempt of a job. Unsubscribing must abort its I/O. Errors are
 * values on the error path; a synchronous throw is contained like any other.
 */
export type RunJob<J, P, R> = (job: J, context: RunContext) => Observable<RunUpdate<P, R>>;

export type JobEvent<J, P, R> =
  | { readonly type: 'queued'; readonly job: J }
  | { readonly type: 'started'; readonly job: J; readonly attempt: number }
  | { readonly type: 'progress'; readonly job: J; readonly attempt: number; readonly progress: P }
  | {
      readonly type: 'attempt_failed';
      readonly job: J;
      readonly attempt: number;
      readonly error: unknown;
      readonly retryInMs: number;
    }
  | { readonly type: 'succeeded'; readonly job: J; readonly attempt: number; readonly result: R }
  | { readonly type: 'failed'; readonly job: J; readonly attempt: number; readonly error: unknown }
  | { readonly type: 'cancelled'; readonly job: J; readonly attempt: number }
  /**
   * The job stopped here without an end: this instance no longer holds it (another took it
   * over, or it was cancelled elsewhere). Its attempt was unsubscribed; its status is not
   * this instance's to record.
   */
  | { readonly type: 'released'; readonly job: J; readonly attempt: number };

export type JobEventType = JobEvent<unknown, unknown, unknown>['type'];

export type TerminalJobEvent<J, P, R> = Extract<JobEvent<J, P, R>, { type: 'succeeded' | 'failed' | 'cancelled' }>;

export function isTerminal<J, P, R>(event: JobEvent<J, P, R>): event is TerminalJobEvent<J, P, R> {
  return event.type === 'succeeded' || event.type === 'failed' || event.type === 'cancelled';
}

/** The last event of a job on this instance: its terminal event, or its release. */
export function endsRun<J, P, R>(
  event: JobEvent<J, P, R>,
): event is TerminalJobEvent<J, P, R> | Extract<JobEvent<J, P, R>, { type: 'released' }> {
  return isTerminal(event) || event.type === 'released';
}

/** The error channel: the failures of the lifecycle stream. */
export function isFailure<J, P, R>(
  event: JobEvent<J, P, R>,
): event is Extract<JobEvent<J, P, R>, { type: 'attempt_failed' | 'failed' }> {
  return event.type === 'attempt_failed' || event.type === 'failed';
}
