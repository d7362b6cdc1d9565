import { concatMap, filter, from, type Observable, type Subscription } from 'rxjs';
import type { JobLifecycleEvent } from './job.ts';
import type { JobPatch, JobStore } from './job-store.ts';

export interface RecordJobEventsDeps {
  readonly store: JobStore;
  /** This instance's `INSTANCE_ID`: the `runner` of the jobs it starts. */
  readonly runner: string;
  readonly now?: () => Date;
  /** Called when a store write fails (logged by the caller); the stream goes on. */
  readonly onWriteError: (error: unknown, event: JobLifecycleEvent) => void;
}

/**
 * Keeps the job store in step with the lifecycle stream (status, attempts,
 * timestamps, progress, output). Failures are recorded by the error channel
 * (`reportJobFailures`). Writes run one at a time, in event order.
 */
export function recordJobEvents(events$: Observable<JobLifecycleEvent>, deps: RecordJobEventsDeps): Subscription {
  const { store, runner, now = () => new Date(), onWriteError } = deps;
  return events$
    .pipe(
      filter((event) => event.type !== 'queued' && event.type !== 'failed' && event.type !== 'attempt_failed'),
      concatMap((event) => from(apply(event).catch((error: unknown) => onWriteError(error, event)))),
    )
    .subscribe();

  async function apply(event: JobLifecycleEvent): Promise<void> {
    const patch = patchFor(event);
    if (patch !== undefined) await store.update(event.job.id, patch);
  }

  function patchFor(event: JobLifecycleEvent): JobPatch | undefined {
    switch (event.type) {
      case 'started':
        return {
          status: 'running',
          attempts: event.attempt,
          startedAt: event.job.startedAt ?? now().toISOString(),
          error: null,
          runner,
        };
      case 'progress':
        return { progress: event.progress };
      case 'succeeded':
        return {
          status: 'succeeded',
          attempts: event.attempt,
          finishedAt: now().toISOString(),
          output: event.result.output,
          error: null,
          ...(event.result.progress === undefined ? {} : { progress: event.result.progress }),
        };
      case 'cancelled':
        return { status: 'cancelled', finishedAt: now().toISOString() };
      default:
        return undefined;
    }
  }
}
