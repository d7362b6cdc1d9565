import type pg from 'pg';
import { firstValueFrom, merge, Subject, type Observable, type Subscription } from 'rxjs';
import type { Logger } from '../logging/create-logger.ts';
import { backoff } from '../pipeline/backoff.ts';
import type { RunJob } from '../pipeline/job-event.ts';
import { createJobQueue, type JobQueue } from '../pipeline/job-queue.ts';
import { processJobs } from '../pipeline/process-jobs.ts';
import type { Job, JobLifecycleEvent, JobProgress, JobRunResult } from './job.ts';
import { createJobWrites } from './create-job-writes.ts';
import type { JobStore } from './job-store.ts';
import { followJobChanges } from './follow-job-changes.ts';
import { recordJobEvents } from './record-job-events.ts';
import { recoverJobs } from './recover-jobs.ts';
import { reportJobFailures } from './report-job-failures.ts';
import { startClaimFeed } from './start-claim-feed.ts';
import { trackRunningJobs } from './track-running-jobs.ts';

/** How long a stopping instance keeps trying to record its jobs' last changes. */
const WRITES_GRACE_MS = 5_000;

export interface JobEngineConfig {
  /** `JOB_CONCURRENCY`: jobs at once on this instance. */
  readonly concurrency: number;
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly queueCapacity: number;
  /** `INSTANCE_ID`, recorded as each job's `runner`. */
  readonly runner: string;
  readonly leaseMs: number;
}

export interface JobEngineDeps {
  readonly store: JobStore;
  readonly runJob: RunJob<Job, JobProgress, JobRunResult>;
  /** Ends what `runJob` runs on (worker threads), once no attempt runs. */
  readonly closeRunner?: () => Promise<void>;
  /** With a shared PostgreSQL store: claims fill the queue instead of this instance's own triggers. */
  readonly shared?: { readonly url: string; readonly pool: pg.Pool };
  /** Further subscribers of the lifecycle stream (metrics), subscribed before any job can start. */
  readonly observers?: readonly ((events$: Observable<JobLifecycleEvent>) => Subscription)[];
  readonly logger: Logger;
}

export interface JobEngine {
  /** Jobs waiting here for a free slot. */
  readonly queue: JobQueue<Job>;
  /** Every job's lifecycle on this instance, from queued to its one terminal event (or its release). */
  readonly events$: Observable<JobLifecycleEvent>;
  /**
   * What event streams show: this instance's events and, with a shared store, the
   * changes of jobs that run elsewhere, each once. Never recorded.
   */
  readonly shown$: Observable<JobLifecycleEvent>;
  /** Where an accepted job goes: this queue, or (shared store) a wake-up of the claim feed. */
  readonly accepted: { enqueue(jobs: readonly Job[]): void; free(): number };
  /**
   * Starts nothing more and waits up to `graceMs` for running jobs; those still
   * running then are stopped (streams destroyed, uploads aborted) and left queued.
   * The lifecycle stream completes.
   */
  drain(graceMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The job flow of one instance: the queue `Subject`, `processJobs` with its
 * concurrency, retry and backoff, and the subscribers of its lifecycle stream
 * that record each event in the store and log failures. Jobs left unfinished
 * by the last run (own store) are queued again; with a shared store, claims
 * feed the queue.
 */
export async function startJobEngine(config: JobEngineConfig, deps: JobEngineDeps): Promise<JobEngine> {
  const { store, runJob, logger } = deps;
  const queue = createJobQueue<Job>({ capacity: config.queueCapacity });
  const events = new Subject<JobLifecycleEvent>();
  const running = trackRunningJobs(events);
  // One writer for both subscribers, so a job's changes reach the store in event order, outage or not.
  const writes = createJobWrites({
    store,
    logger,
    condition: { unfinished: true, ...(deps.shared === undefined ? {} : { runner: config.runner }) },
  });
  const subscriptions: Subscription[] = [
    recordJobEvents(events, { writes, runner: config.runner }),
    reportJobFailures(events, { writes, logger }),
    ...(deps.observers ?? []).map((observe) => observe(events.asObservable())),
  ];
  const pipeline = merge(
    queue.events$,
    processJobs(queue, runJob, {
      concurrency: config.concurrency,
      maxAttempts: config.maxAttempts,
      backoff: backoff({ baseMs: config.retryBaseMs, maxMs: config.retryMaxMs }),
      priorAttempts: (job) => job.attempts,
    }),
  ).subscribe(events);

  const claimFeed =
    deps.shared === undefined
      ? undefined
      : startClaimFeed(
          { url: deps.shared.url, runner: config.runner, leaseMs: config.leaseMs, concurrency: config.concurrency },
          { pool: deps.shared.pool, queue, events$: events, logger, writing: (id) => writes.writing(id) },
        );
  if (claimFeed === undefined) {
    const recovered = await recoverJobs(store, queue);
    if (recovered.requeued > 0) logger.info('jobs recovered from the last run', recovered);
  }

  return {
    queue,
    events$: events.asObservable(),
    shown$:
      claimFeed === undefined
        ? events.asObservable()
        : followJobChanges(events, {
            hints$: claimFeed.changes$,
            fetchJobs: (ids) => claimFeed.fetchJobs(ids),
            runner: config.runner,
            onError: (error) =>
              logger.warn('could not read changed jobs for the event streams', { error: String(error) }),
          }),
    // Shared: stored jobs wait for a claim (this instance's or another's), not for this queue, and the
    // store holds QUEUE_CAPACITY across the instances as it inserts them (queue_full).
    accepted:
      claimFeed === undefined ? queue : { enqueue: () => claimFeed.wake(), free: () => Number.POSITIVE_INFINITY },
    async drain(graceMs) {
      claimFeed?.stop();
      queue.hold();
      const drained = await running.idle(graceMs);
      // Still running past the grace period: unsubscribing destroys their streams and
      // aborts their uploads; they go back to queued for the next start.
      const cut = drained ? [] : [...(await firstValueFrom(running.running$))];
      pipeline.unsubscribe();
      await deps.closeRunner?.();
      for (const id of cut) writes.write(id, { status: 'queued' });
      if (cut.length > 0)
        logger.warn('jobs still running at the end of the grace period were stopped and left queued', { jobIds: cut });
      queue.close();
      // The lifecycle stream ends here, which also ends open event streams (SSE) cleanly.
      events.complete();
      // The last outcomes, written before the store closes (retried a while if the store is away).
      if (!(await writes.settled(WRITES_GRACE_MS)))
        logger.warn('the job store did not answer; the last job changes were not recorded', {
          graceMs: WRITES_GRACE_MS,
        });
    },
    async close() {
      for (const subscription of subscriptions) subscription.unsubscribe();
      writes.close();
      await claimFeed?.close();
    },
  };
}
