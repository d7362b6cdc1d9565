import type { Observable, Subscription } from 'rxjs';
import type { JobWrites } from './create-job-writes.ts';
import type { JobLifecycleEvent } from './job.ts';
import type { JobPatch } from './job-store.ts';

export interface RecordJobEventsDeps {
  /** The job writes, shared with the error channel so each job's changes stay in order. */
  readonly writes: Pick<JobWrites, 'write'>;
  /** This instance's `INSTANCE_ID`: the `runner` of the jobs it starts. */
  readonly runner: string;
  readonly now?: () => Date;
}

/**
 * Keeps the job store in step with the lifecycle stream (status, attempts,
 * timestamps, progress, output). Failures are recorded by the error channel
 * (`reportJobFailures`). Each change is handed to the job writes as its event
 * arrives, which send them in order and retry them while the store is away.
 */
export function recordJobEvents(events$: Observable<JobLifecycleEvent>, deps: RecordJobEventsDeps): Subscription {
  const { writes, runner, now = () => new Date() } = deps;
  return events$.subscribe((event) => {
    const patch = patchFor(event);
    if (patch !== undefined) writes.write(event.job.id, patch);
  });

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
