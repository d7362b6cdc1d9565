import { filter, type Observable, type Subscription } from 'rxjs';
import { toAppError } from '../errors.ts';
import type { Logger } from '../logging/create-logger.ts';
import { isFailure } from '../pipeline/job-event.ts';
import type { JobWrites } from './create-job-writes.ts';
import type { JobLifecycleEvent } from './job.ts';

export interface ReportJobFailuresDeps {
  /** The job writes, shared with `recordJobEvents` so each job's changes stay in order. */
  readonly writes: Pick<JobWrites, 'write'>;
  readonly logger: Logger;
  readonly now?: () => Date;
}

/**
 * The error channel: the one subscriber of the lifecycle stream's failures. It
 * logs each (job id, key, attempt, code) and records the final error on the job.
 */
export function reportJobFailures(events$: Observable<JobLifecycleEvent>, deps: ReportJobFailuresDeps): Subscription {
  const { writes, logger, now = () => new Date() } = deps;
  return events$.pipe(filter(isFailure)).subscribe((event) => {
    const error = toAppError(event.error);
    // A child logger per job: every line of this job carries its id.
    const jobLogger = logger.child({ jobId: event.job.id });
    const fields = {
      bucket: event.job.source.bucket,
      key: event.job.source.key,
      attempt: event.attempt,
      code: error.code,
      retryable: error.retryable,
      error: error.message,
      ...(error.code === 'internal' && event.error instanceof Error ? { stack: event.error.stack } : {}),
    };
    if (event.type === 'attempt_failed') {
      jobLogger.warn('job attempt failed; retrying', { ...fields, retryInMs: event.retryInMs });
      return;
    }
    jobLogger.error('job failed', fields);
    writes.write(event.job.id, {
      status: 'failed',
      attempts: event.attempt,
      finishedAt: now().toISOString(),
      error: error.toJSON(),
    });
  });
}
