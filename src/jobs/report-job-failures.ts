import { concatMap, filter, from, type Observable, type Subscription } from 'rxjs';
import { toAppError } from '../errors.ts';
import type { Logger } from '../logging/create-logger.ts';
import { isFailure } from '../pipeline/job-event.ts';
import type { JobStore } from './job-store.ts';
import type { JobLifecycleEvent } from './job.ts';

export interface ReportJobFailuresDeps {
  readonly store: JobStore;
  readonly logger: Logger;
  readonly now?: () => Date;
}

/**
 * The error channel: the one subscriber of the lifecycle stream's failures. It
 * logs each (job id, key, attempt, code) and records the final error on the job.
 */
export function reportJobFailures(events$: Observable<JobLifecycleEvent>, deps: ReportJobFailuresDeps): Subscription {
  const { store, logger, now = () => new Date() } = deps;
  return events$
    .pipe(
      filter(isFailure),
      concatMap((event) => {
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
          return from(Promise.resolve());
        }
        jobLogger.error('job failed', fields);
        return from(
          store
            .update(event.job.id, {
              status: 'failed',
              attempts: event.attempt,
              finishedAt: now().toISOString(),
              error: error.toJSON(),
            })
            .catch((writeError: unknown) =>
              jobLogger.error('could not record a job failure', { error: String(writeError) }),
            ),
        );
      }),
    )
    .subscribe();
}
