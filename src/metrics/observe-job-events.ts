import type { Observable, Subscription } from 'rxjs';
import { toAppError } from '../errors.ts';
import type { JobLifecycleEvent, JobProgress } from '../jobs/job.ts';
import type { Metrics } from './create-metrics.ts';

export interface ObserveJobEventsOptions {
  /** Wall clock in ms (tests pass a fake one). Default `Date.now`. */
  readonly now?: () => number;
}

const ZERO: JobProgress = { bytesRead: 0, totalBytes: null, rows: 0, rejected: 0 };

/**
 * Feeds the job metrics from the lifecycle stream: jobs accepted and finished,
 * failures and retries by code, durations, and rows, rejects and bytes as they
 * are read (from the progress of each attempt, so a long job shows its rate
 * while it runs).
 */
export function observeJobEvents(
  events$: Observable<JobLifecycleEvent>,
  metrics: Metrics,
  options: ObserveJobEventsOptions = {},
): Subscription {
  const { now = Date.now } = options;
  // When each unfinished job first started (ms), for the duration histogram.
  const startedAt = new Map<string, number>();
  // The progress last counted for each running attempt, to count only what is new.
  const counted = new Map<string, JobProgress>();

  return events$.subscribe((event) => {
    const id = event.job.id;
    switch (event.type) {
      case 'queued':
        metrics.jobsAccepted.inc({ trigger: event.job.trigger });
        return;
      case 'started': {
        if (!startedAt.has(id)) {
          const first = event.job.startedAt === null ? now() : Date.parse(event.job.startedAt);
          startedAt.set(id, first);
          if (event.job.startedAt === null)
            metrics.jobQueueWait.observe(Math.max(0, first - Date.parse(event.job.createdAt)) / 1000);
        }
        counted.set(id, ZERO);
        metrics.jobsRunning.set(startedAt.size);
        return;
      }
      case 'progress':
        count(id, event.progress);
        return;
      case 'attempt_failed':
        metrics.jobRetries.inc({ code: toAppError(event.error).code });
        counted.delete(id);
        return;
      case 'succeeded':
        if (event.result.progress !== undefined) count(id, event.result.progress);
        finish(id, 'succeeded');
        return;
      case 'failed':
        metrics.jobFailures.inc({ code: toAppError(event.error).code });
        finish(id, 'failed');
        return;
      case 'cancelled':
        finish(id, 'cancelled');
        return;
      case 'released':
        // Stopped here, not finished: another instance runs it on and counts its end.
        startedAt.delete(id);
        counted.delete(id);
        metrics.jobsRunning.set(startedAt.size);
        return;
    }
  });

  function count(id: string, progress: JobProgress): void {
    const last = counted.get(id) ?? ZERO;
    metrics.rowsProcessed.inc(delta(progress.rows, last.rows));
    metrics.rowsRejected.inc(delta(progress.rejected, last.rejected));
    metrics.bytesRead.inc(delta(progress.bytesRead, last.bytesRead));
    counted.set(id, progress);
  }

  function finish(id: string, status: 'succeeded' | 'failed' | 'cancelled'): void {
    metrics.jobsFinished.inc({ status });
    const started = startedAt.get(id);
    if (started !== undefined) metrics.jobDuration.observe({ status }, Math.max(0, now() - started) / 1000);
    startedAt.delete(id);
    counted.delete(id);
    metrics.jobsRunning.set(startedAt.size);
  }
}

/** What is new since the last count; a counter that went back means a fresh count. */
function delta(value: number, last: number): number {
  return value >= last ? value - last : value;
}
