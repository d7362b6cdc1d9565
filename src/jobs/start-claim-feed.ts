import type pg from 'pg';
import { Subject, type Observable } from 'rxjs';
import type { Logger } from '../logging/create-logger.ts';
import type { JobQueue } from '../pipeline/job-queue.ts';
import { feedClaims } from './feed-claims.ts';
import type { Job, JobLifecycleEvent } from './job.ts';
import { listenForJobs } from './listen-for-jobs.ts';
import { createPostgresJobClaims } from './postgres-job-claims.ts';

/** The slowest poll: wake-ups make it rarely needed, and it bounds how late an expired lease is found. */
const POLL_MS = 5_000;

export interface ClaimFeedConfig {
  /** `DATABASE_URL`, for the listening connection. */
  readonly url: string;
  /** `INSTANCE_ID`. */
  readonly runner: string;
  readonly leaseMs: number;
  readonly concurrency: number;
}

export interface ClaimFeedDeps {
  /** The PostgreSQL job store's pool. */
  readonly pool: pg.Pool;
  readonly queue: Pick<JobQueue<Job>, 'enqueue' | 'cancel' | 'release'>;
  readonly events$: Observable<JobLifecycleEvent>;
  readonly logger: Logger;
  /** Whether a job's changes still wait to reach the store: an ended job keeps its lease until they land. */
  readonly writing?: (id: string) => boolean;
}

export interface StartedClaimFeed {
  /** Ids of jobs changed on any instance, as notified. */
  readonly changes$: Observable<readonly string[]>;
  /** Reads jobs by id. */
  fetchJobs(ids: readonly string[]): Promise<readonly Job[]>;
  /** A job was stored here: claim without waiting for the notification. */
  wake(): void;
  /** Claims nothing more (shutdown); running jobs keep their leases. */
  stop(): void;
  close(): Promise<void>;
}

/**
 * With a shared PostgreSQL store, the queue is filled by claims: a listener for
 * new-job notifications and a slow poll wake the claim feed, which claims as
 * many jobs as this instance has room for; a cancel notification stops the job
 * here if it runs here. Start it once `processJobs` reads
 * the queue: a Subject keeps nothing for later subscribers.
 */
export function startClaimFeed(config: ClaimFeedConfig, deps: ClaimFeedDeps): StartedClaimFeed {
  const { url, runner, leaseMs, concurrency } = config;
  const { pool, queue, events$, logger } = deps;
  const feed = feedClaims({
    claims: createPostgresJobClaims(pool, { runner, leaseMs }),
    queue,
    events$,
    concurrency,
    leaseMs,
    pollMs: Math.min(POLL_MS, Math.floor(leaseMs / 2)),
    logger,
    ...(deps.writing === undefined ? {} : { writing: deps.writing }),
  });
  const changes = new Subject<readonly string[]>();
  const listener = listenForJobs({
    url,
    onWake: feed.wake,
    onCancel: (id) => queue.cancel(id),
    onChange: (ids) => changes.next(ids),
    onError: (error) =>
      logger.warn('the job notification connection failed; listening again shortly (the poll covers the gap)', {
        error: String(error),
      }),
  });
  return {
    changes$: changes.asObservable(),
    async fetchJobs(ids) {
      const { rows } = await pool.query<{ data: Job }>('SELECT data FROM jobs WHERE id = ANY($1::text[])', [ids]);
      return rows.map((row) => row.data);
    },
    wake: feed.wake,
    stop() {
      feed.stop();
      void listener.close();
    },
    async close() {
      feed.close();
      await listener.close();
      changes.complete();
    },
  };
}
