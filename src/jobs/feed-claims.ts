import { filter, type Observable } from 'rxjs';
import type { Logger } from '../logging/create-logger.ts';
import type { JobQueue } from '../pipeline/job-queue.ts';
import { endsRun } from '../pipeline/job-event.ts';
import type { Job, JobLifecycleEvent } from './job.ts';
import type { PostgresJobClaims } from './postgres-job-claims.ts';

export interface FeedClaimsDeps {
  readonly claims: PostgresJobClaims;
  /** The queue whose Subject feeds `processJobs`; lost and cancelled jobs are stopped through it. */
  readonly queue: Pick<JobQueue<Job>, 'enqueue' | 'cancel' | 'release'>;
  readonly events$: Observable<JobLifecycleEvent>;
  /** `JOB_CONCURRENCY`: jobs held at once. */
  readonly concurrency: number;
  /** `JOB_LEASE_MS`: leases are renewed every third of it. */
  readonly leaseMs: number;
  /** The slow poll: it covers lost notifications and finds expired leases. */
  readonly pollMs: number;
  readonly logger: Logger;
  /**
   * Whether a job's changes still wait to reach the store (an outage): such a
   * job that ended keeps its lease renewed until its final status is written,
   * or another instance could take it over and run it again.
   */
  readonly writing?: (id: string) => boolean;
}

export interface ClaimFeed {
  /** A job may be waiting (a notification, a local insert): claim if there is room. */
  wake(): void;
  /** Claims nothing more; leases of the jobs still held go on being renewed. */
  stop(): void;
  /** Stops renewing too. */
  close(): void;
}

/**
 * Fills this instance's queue from the shared store: whenever it holds fewer
 * than `concurrency` jobs it claims the oldest waiting ones and enqueues them,
 * so the RxJS pipeline runs them as it runs any job. It claims when woken, when
 * one of its jobs ends, and on a slow poll; one claim runs at a time, and a wake
 * during a claim makes it claim again. It renews the leases of the jobs it
 * holds every third of the lease, during retry backoff too. A job whose lease
 * is lost (another instance took it over) is released: stopped at once, with
 * nothing more written for it here. One cancelled while it ran here is
 * cancelled here too, as the cancel notification would have done.
 */
export function feedClaims(deps: FeedClaimsDeps): ClaimFeed {
  const { claims, queue, events$, concurrency, leaseMs, pollMs, logger } = deps;
  // Ids of the jobs this instance claimed and that have not ended.
  const held = new Set<string>();
  // Ids of jobs that ended here and whose final status is not written yet: leases renewed, no slot taken.
  const finishing = new Set<string>();
  // A claim is under way.
  let claiming = false;
  // Woken during a claim: claim again when it ends.
  let again = false;
  let stopped = false;

  const ended = events$.pipe(filter(endsRun)).subscribe((event) => {
    if (!held.delete(event.job.id)) return;
    if (deps.writing?.(event.job.id) === true) finishing.add(event.job.id);
    wake();
  });
  const poll = setInterval(wake, pollMs);
  const renewal = setInterval(() => void renew(), Math.max(1, Math.floor(leaseMs / 3)));

  function wake(): void {
    if (stopped) return;
    if (claiming) {
      again = true;
      return;
    }
    void claim();
  }

  async function claim(): Promise<void> {
    claiming = true;
    try {
      do {
        again = false;
        const room = concurrency - held.size;
        if (room <= 0 || stopped) break;
        const jobs = await claims.claim(room);
        if (stopped) {
          // Claimed as the instance stopped: they run elsewhere once their leases expire.
          if (jobs.length > 0)
            logger.warn('jobs claimed while stopping are left to their leases', { jobIds: jobs.map((job) => job.id) });
          break;
        }
        for (const job of jobs) held.add(job.id);
        // Accepted already (by some instance): the local capacity does not apply.
        if (jobs.length > 0) queue.enqueue(jobs, { overCapacity: true });
        if (jobs.length === room) again = true;
      } while (again);
    } catch (error) {
      logger.warn('claiming jobs failed; trying again on the next wake-up or poll', { error: String(error) });
    } finally {
      claiming = false;
    }
  }

  async function renew(): Promise<void> {
    for (const id of finishing) if (deps.writing?.(id) !== true) finishing.delete(id);
    if (held.size === 0 && finishing.size === 0) return;
    const ids = [...held, ...finishing];
    try {
      const { held: kept, cancelled } = await claims.renew(ids);
      // Still held here: a job that ended meanwhile is no longer this feed's to stop.
      const current = ids.filter((id) => held.has(id) && !kept.has(id));
      const lost = current.filter((id) => !cancelled.has(id));
      for (const id of current.filter((id) => cancelled.has(id))) queue.cancel(id);
      if (lost.length === 0) return;
      logger.warn('job leases lost: another instance holds these jobs now; stopped here', { jobIds: lost });
      for (const id of lost) {
        held.delete(id);
        queue.release(id);
      }
      wake();
    } catch (error) {
      logger.warn('renewing job leases failed; trying again within a third of the lease', { error: String(error) });
    }
  }

  return {
    wake,
    stop() {
      stopped = true;
      clearInterval(poll);
    },
    close() {
      stopped = true;
      clearInterval(poll);
      clearInterval(renewal);
      ended.unsubscribe();
    },
  };
}
