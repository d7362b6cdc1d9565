import { Subject, type Observable } from 'rxjs';
import { AppError } from '../errors.ts';
import type { JobEvent } from './job-event.ts';

export interface JobQueueConfig {
  /** Jobs waiting to start before `enqueue` refuses (`QUEUE_CAPACITY`). */
  readonly capacity: number;
}

/**
 * What a queue says when a job's turn comes: `start` it; it was `cancelled` while
 * it waited; or `held` — the queue is draining for shutdown, so the job is left
 * as it is (still queued in the store) for the next start.
 */
export type ClaimResult = 'start' | 'cancelled' | 'held';

/** What `processJobs` reads from a queue. */
export interface JobSource<J> {
  /** Every job enqueued, in order. */
  readonly jobs$: Observable<J>;
  /** Ids of jobs cancelled after they were enqueued. */
  readonly cancels$: Observable<string>;
  /**
   * Jobs cancelled while they waited, at the moment of the cancel (their claim
   * then says `cancelled`). Without it, `processJobs` reports such a job only
   * when its turn comes.
   */
  readonly withdrawn$?: Observable<J>;
  /**
   * Ids of jobs this instance no longer holds: a running one stops at once with a
   * `released` event and no terminal event; a waiting one is dropped (its claim says so).
   */
  readonly releases$?: Observable<string>;
  /** Called when a job's turn comes. */
  claim(job: J): ClaimResult;
}

export interface JobQueue<J extends { readonly id: string }> extends JobSource<J> {
  /** Jobs cancelled while they waited, at the moment of the cancel. */
  readonly withdrawn$: Observable<J>;
  readonly releases$: Observable<string>;
  /** `queued` lifecycle events. */
  readonly events$: Observable<JobEvent<J, never, never>>;
  /**
   * Enqueues all of `jobs`, or none of them: past capacity it throws `queue_full`.
   * `overCapacity` admits them regardless (jobs recovered at start were accepted before).
   */
  enqueue(jobs: readonly J[], options?: { readonly overCapacity?: boolean }): void;
  /** Cancels a job: true when it was still waiting (it will not start). */
  cancel(id: string): boolean;
  /** Lets go of a job held elsewhere now: it stops if it runs, and is dropped silently if it waits. */
  release(id: string): void;
  /** Jobs waiting to start. */
  size(): number;
  /** Room left before `queue_full`. */
  free(): number;
  /** Starts draining: nothing more is accepted and waiting jobs are `held`, not started. */
  hold(): void;
  /** Ends the streams: `processJobs` finishes the jobs it holds, then completes. */
  close(): void;
}

/** The job queue: it owns the `Subject` that feeds the pipeline. */
export function createJobQueue<J extends { readonly id: string }>(config: JobQueueConfig): JobQueue<J> {
  const { capacity } = config;
  // Jobs pushed to the pipeline, in order.
  const jobs = new Subject<J>();
  // Ids of cancelled jobs, for the pipeline to stop running ones.
  const cancels = new Subject<string>();
  // Jobs cancelled while they waited, reported at once.
  const withdrawn = new Subject<J>();
  // Ids of jobs let go of, for the pipeline to stop running ones without an end.
  const releases = new Subject<string>();
  // `queued` events for the lifecycle stream.
  const events = new Subject<JobEvent<J, never, never>>();
  // Jobs enqueued and not yet started or cancelled, by id: the queue's depth.
  const waiting = new Map<string, J>();
  // Set by `hold` or `close`: nothing more is accepted.
  let closed = false;
  // Set by `hold`: waiting jobs are not started.
  let holding = false;

  return {
    jobs$: jobs.asObservable(),
    cancels$: cancels.asObservable(),
    withdrawn$: withdrawn.asObservable(),
    releases$: releases.asObservable(),
    events$: events.asObservable(),
    enqueue(batch, options = {}) {
      if (closed) throw new AppError('shutting_down', 'The job queue is closed; the service is shutting down.');
      // Jobs not already waiting, each id once (a batch may name a job twice).
      const fresh = batch.filter(
        (job, index) => !waiting.has(job.id) && batch.findIndex((other) => other.id === job.id) === index,
      );
      if (!options.overCapacity && waiting.size + fresh.length > capacity) {
        throw new AppError(
          'queue_full',
          `The job queue is full (${waiting.size} of ${capacity} waiting); ${fresh.length} more cannot be accepted.`,
        );
      }
      for (const job of fresh) waiting.set(job.id, job);
      for (const job of fresh) {
        events.next({ type: 'queued', job });
        jobs.next(job);
      }
    },
    claim(job) {
      if (!waiting.delete(job.id)) return 'cancelled';
      return holding ? 'held' : 'start';
    },
    cancel(id) {
      const job = waiting.get(id);
      if (job !== undefined) {
        waiting.delete(id);
        withdrawn.next(job);
      }
      cancels.next(id);
      return job !== undefined;
    },
    release(id) {
      // A waiting job's claim then says `cancelled`, which reports nothing when withdrawn$ is read.
      waiting.delete(id);
      releases.next(id);
    },
    size: () => waiting.size,
    free: () => Math.max(0, capacity - waiting.size),
    hold() {
      closed = true;
      holding = true;
    },
    close() {
      closed = true;
      jobs.complete();
      cancels.complete();
      withdrawn.complete();
      releases.complete();
      events.complete();
    },
  };
}
