import { AppError } from '../errors.ts';
import type { JobQueue } from '../pipeline/job-queue.ts';
import type { Job } from './job.ts';
import type { JobStore } from './job-store.ts';

export type CancelJob = (id: string) => Promise<Job>;

export interface CancelJobDeps {
  readonly store: JobStore;
  readonly queue: Pick<JobQueue<Job>, 'cancel'>;
  readonly now?: () => Date;
}

/**
 * Cancels a queued or running job: a queued one never starts; a running one's
 * inner observable is unsubscribed, which destroys its streams and aborts its
 * multipart uploads. A finished job is `job_finished` (409).
 */
export function createCancelJob(deps: CancelJobDeps): CancelJob {
  const { store, queue, now = () => new Date() } = deps;
  return async function cancelJob(id) {
    // Conditional: a job that ends between a read and this write keeps its outcome.
    const updated = await store.update(
      id,
      { status: 'cancelled', finishedAt: now().toISOString() },
      { unfinished: true },
    );
    if (updated === undefined) {
      const job = await store.get(id);
      if (job === undefined) throw new AppError('not_found', `There is no job ${id}.`);
      throw new AppError(
        'job_finished',
        `The job ${id} has already finished (${job.status}); only queued or running jobs can be cancelled.`,
      );
    }
    queue.cancel(id);
    return updated;
  };
}
