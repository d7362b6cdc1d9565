import type { CsvJobResult } from '../../src/jobs/csv-job-result.ts';
import { observeAttempts, type AttemptRunner } from '../../src/jobs/observe-attempts.ts';
import { runCsvJob, type CsvJobDeps } from '../../src/jobs/run-csv-job.ts';

export interface CsvJobRunnerDeps extends CsvJobDeps {
  /** How often a running job reports progress, ms. Default 500. */
  readonly progressIntervalMs?: number;
}

export type CsvJobRunner = AttemptRunner<CsvJobResult>;

/**
 * `runCsvJob` in this thread, for the pipeline: progress sampled every
 * `progressIntervalMs`, one `done`; unsubscribing aborts the attempt.
 */
export function createCsvJobRunner(deps: CsvJobRunnerDeps): CsvJobRunner {
  const { progressIntervalMs = 500 } = deps;
  return observeAttempts((job, options) => runCsvJob(job, deps, { ...options, progressIntervalMs }));
}
