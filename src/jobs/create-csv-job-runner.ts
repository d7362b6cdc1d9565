import { Observable } from 'rxjs';
import { AppError, toAppError } from '../errors.ts';
import type { RunJob, RunUpdate } from '../pipeline/job-event.ts';
import type { CsvJobResult } from './csv-job-result.ts';
import type { Job, JobProgress } from './job.ts';
import { runCsvJob, type CsvJobDeps } from './run-csv-job.ts';

export interface CsvJobRunnerDeps extends CsvJobDeps {
  /** How often a running job reports progress, ms. Default 500. */
  readonly progressIntervalMs?: number;
}

/** `runJob` for the pipeline, plus a way to wait for torn-down attempts (shutdown, specs). */
export type CsvJobRunner = RunJob<Job, JobProgress, CsvJobResult> & {
  /** Resolves once every attempt started so far has finished, its clean-up (aborted uploads, removed outputs) included. */
  drain(): Promise<void>;
};

/**
 * Wraps `runCsvJob` for the pipeline: each subscription runs one attempt,
 * emitting `progress` updates (sampled every `progressIntervalMs`) and one
 * `done`. Unsubscribing aborts the attempt's I/O; its clean-up goes on in the
 * background, and `drain()` waits for it.
 */
export function createCsvJobRunner(deps: CsvJobRunnerDeps): CsvJobRunner {
  const { progressIntervalMs = 500 } = deps;
  // Attempts started and not yet settled (clean-up included).
  const running = new Set<Promise<void>>();

  const runJob: RunJob<Job, JobProgress, CsvJobResult> = (job, { attempt }) =>
    new Observable<RunUpdate<JobProgress, CsvJobResult>>((subscriber) => {
      const controller = new AbortController();
      const settled: Promise<void> = runCsvJob(job, deps, {
        signal: controller.signal,
        attempt,
        progressIntervalMs,
        onProgress: (progress) => subscriber.next({ kind: 'progress', progress }),
      }).then(
        (result) => {
          subscriber.next({ kind: 'done', result });
          subscriber.complete();
        },
        (error: unknown) => subscriber.error(toAppError(error)),
      ).finally(() => running.delete(settled));
      running.add(settled);
      return () => controller.abort(new AppError('cancelled', `The job ${job.id} was cancelled.`));
    });

  async function drain(): Promise<void> {
    while (running.size > 0) await Promise.allSettled([...running]);
  }

  return Object.assign(runJob, { drain });
}
