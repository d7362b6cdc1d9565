import { concat, interval, map, NEVER, of, take, type Observable } from 'rxjs';
import type { Config } from '../../src/config/config.ts';
import type { Job, JobProgress, JobRunResult } from '../../src/jobs/job.ts';
import { outputKeys } from '../../src/jobs/output-keys.ts';
import type { RunJob, RunUpdate } from '../../src/pipeline/job-event.ts';

export interface PacedJobOptions {
  /** ms between progress updates. */
  readonly everyMs: number;
  /** Progress updates before the result; Infinity: never ends (until cancelled). */
  readonly updates: number;
}

/**
 * A `runJob` for HTTP specs that reads nothing: it reports progress at a fixed
 * pace (10 rows and 100 bytes a step), then succeeds with the usual output keys.
 */
export function pacedJob(
  options: PacedJobOptions,
): (deps: { config: Config }) => RunJob<Job, JobProgress, JobRunResult> {
  const { everyMs, updates } = options;
  return ({ config }) =>
    (job) => {
      const total = Number.isFinite(updates) ? updates * 100 : null;
      const progress$: Observable<RunUpdate<JobProgress, JobRunResult>> = interval(everyMs).pipe(
        take(Number.isFinite(updates) ? updates : Number.MAX_SAFE_INTEGER),
        map((i) => ({
          kind: 'progress',
          progress: { bytesRead: (i + 1) * 100, totalBytes: total, rows: (i + 1) * 10, rejected: 0 },
        })),
      );
      const done$ = Number.isFinite(updates)
        ? of<RunUpdate<JobProgress, JobRunResult>>({
            kind: 'done',
            result: {
              output: outputKeys(config.buckets.output, config.buckets.outputPrefix, job.source),
              progress: { bytesRead: updates * 100, totalBytes: total, rows: updates * 10, rejected: 0 },
            },
          })
        : NEVER;
      return concat(progress$, done$);
    };
}
