import type { JobQueue } from '../pipeline/job-queue.ts';
import type { Job } from './job.ts';
import type { JobStore } from './job-store.ts';

/**
 * At start: jobs the last run left `running` (a crash, or cut off at shutdown)
 * go back to `queued` — the attempt they used counts — and every queued job is
 * enqueued again, oldest first, even past the queue's capacity (they were accepted).
 */
export async function recoverJobs(
  store: JobStore,
  queue: Pick<JobQueue<Job>, 'enqueue'>,
): Promise<{ requeued: number; interrupted: number }> {
  const unfinished = await store.unfinished();
  const jobs: Job[] = [];
  let interrupted = 0;
  for (const job of unfinished) {
    if (job.status === 'running') {
      interrupted += 1;
      jobs.push((await store.update(job.id, { status: 'queued' })) ?? job);
    } else {
      jobs.push(job);
    }
  }
  queue.enqueue(jobs, { overCapacity: true });
  return { requeued: jobs.length, interrupted };
}
