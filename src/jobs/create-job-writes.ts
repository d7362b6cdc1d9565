import { isAppError } from '../errors.ts';
import type { Logger } from '../logging/create-logger.ts';
import type { JobPatch, JobStore, JobUpdateCondition } from './job-store.ts';

/** Jobs with writes waiting at most, before progress-only writes of further jobs are let go. */
const MAX_WAITING_JOBS = 10_000;
/** First and longest pause between tries while the store is unreachable. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 2_000;

export interface JobWritesDeps {
  readonly store: Pick<JobStore, 'update'>;
  /**
   * When a write applies: a running job's changes never replace how it ended
   * (a cancel through the API), and with a shared store never reach a row that
   * another instance took over.
   */
  readonly condition?: JobUpdateCondition;
  readonly logger: Logger;
  /** Jobs with writes waiting at most; default 10,000. */
  readonly maxWaitingJobs?: number;
}

/** The writes of running jobs to the store (status, attempts, progress, outputs, errors). */
export interface JobWrites {
  /** Queues a patch of one job; a job's patches reach the store in the order written. */
  write(id: string, patch: JobPatch): void;
  /** Whether a job has changes not yet in the store. */
  writing(id: string): boolean;
  /** Resolves true once nothing waits, or false after `timeoutMs` (the store still unreachable). */
  settled(timeoutMs: number): Promise<boolean>;
  /** Tries no more; returns how many jobs still had writes waiting. */
  close(): number;
}

/**
 * The one writer of the lifecycle stream's changes, so that a job's outcome
 * survives a store outage: writes go out one at a time, and one that fails
 * because the store is unreachable (`store_unavailable`) is tried again, with
 * backoff, until it lands; the writes behind it wait, so each job's history
 * reaches the store in order. Waiting patches of one job merge into one (a
 * patch replaces the fields it names, so applying the merge is applying them in
 * turn): the latest progress replaces older progress, and a final status is
 * kept with whatever came before it. The buffer holds one patch per job; past
 * `maxWaitingJobs` jobs, a new job's progress is let go, never its status.
 * Any other failure (a bug, a job the store does not know) is logged and that
 * write dropped, as retrying would not change it.
 */
export function createJobWrites(deps: JobWritesDeps): JobWrites {
  const { store, logger, maxWaitingJobs = MAX_WAITING_JOBS } = deps;
  // Job id → the merged patch not yet sent; Map order is the order jobs first waited.
  let waiting = new Map<string, JobPatch>();
  // A write (or the pause before a retry) is under way.
  let busy = false;
  // The job whose write is under way: it counts as waiting too.
  let current: string | undefined;
  // Tries of the write under way that found the store unreachable.
  let failures = 0;
  // Progress-only writes let go since the last report.
  let dropped = 0;
  let closed = false;
  let pause: NodeJS.Timeout | undefined;
  let wakePause: (() => void) | undefined;
  // Callers of settled() waiting for an empty buffer.
  const idle = new Set<() => void>();

  function write(id: string, patch: JobPatch): void {
    if (closed) return;
    const earlier = waiting.get(id);
    if (earlier !== undefined) {
      // Same key: Map.set keeps the job's place.
      waiting.set(id, { ...earlier, ...patch });
      return;
    }
    if (waitingJobs() >= maxWaitingJobs && isProgressOnly(patch)) {
      dropped += 1;
      return;
    }
    waiting.set(id, patch);
    void drain();
  }

  async function drain(): Promise<void> {
    if (busy) return;
    busy = true;
    try {
      while (!closed && waiting.size > 0) {
        const [id, patch] = waiting.entries().next().value as [string, JobPatch];
        waiting.delete(id);
        current = id;
        try {
          await store.update(id, patch, deps.condition);
          if (failures > 0)
            logger.info('the job store answers again; waiting job writes go out', { jobs: waiting.size });
          failures = 0;
        } catch (error) {
          if (!(isAppError(error) && error.code === 'store_unavailable')) {
            logger.error('could not record a job change', {
              jobId: id,
              fields: Object.keys(patch),
              error: String(error),
            });
            continue;
          }
          // Back in front, before anything written for this job since.
          const later = waiting.get(id);
          waiting.delete(id);
          waiting = new Map([[id, { ...patch, ...later }], ...waiting]);
          failures += 1;
          if (failures === 1)
            logger.warn('the job store is unreachable; job writes wait and are tried again', {
              jobs: waiting.size,
              error: error.message,
            });
          await sleep(Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (failures - 1)));
        }
        current = undefined;
        if (dropped > 0 && waitingJobs() < maxWaitingJobs) {
          logger.warn('progress of some jobs was not recorded: too many jobs had writes waiting', { dropped });
          dropped = 0;
        }
      }
    } finally {
      busy = false;
      current = undefined;
      if (waiting.size === 0) for (const resolve of idle) resolve();
    }
  }

  function waitingJobs(): number {
    return waiting.size + (current === undefined || waiting.has(current) ? 0 : 1);
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      wakePause = resolve;
      pause = setTimeout(resolve, ms);
    });
  }

  return {
    write,
    writing: (id) => waiting.has(id) || current === id,
    settled(timeoutMs) {
      if (waiting.size === 0 && !busy) return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (result: boolean) => {
          clearTimeout(timer);
          idle.delete(onIdle);
          resolve(result);
        };
        const onIdle = () => done(true);
        const timer = setTimeout(() => done(false), timeoutMs);
        idle.add(onIdle);
      });
    },
    close() {
      closed = true;
      clearTimeout(pause);
      wakePause?.();
      const left = waiting.size;
      waiting.clear();
      return left;
    },
  };
}

function isProgressOnly(patch: JobPatch): boolean {
  return Object.keys(patch).every((key) => key === 'progress');
}
