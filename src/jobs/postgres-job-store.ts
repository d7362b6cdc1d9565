import pg from 'pg';
import { AppError } from '../errors.ts';
import { decodeCursor, encodeCursor } from './job-cursor.ts';
import type { Job } from './job.ts';
import { insertPostgresJobs } from './insert-postgres-jobs.ts';
import { jobIdentity, type JobStore } from './job-store.ts';
import { CANCELS_CHANNEL, CHANGES_CHANNEL, JOBS_CHANNEL } from './listen-for-jobs.ts';
import { migratePostgres } from './migrate-postgres.ts';
import { translatePostgresError } from './translate-postgres-error.ts';

export interface PostgresJobStoreConfig {
  /** `DATABASE_URL`: postgres://… */
  readonly url: string;
  /** Connections this instance opens at most (instances × this must fit `max_connections`). */
  readonly poolSize?: number;
  /**
   * `QUEUE_CAPACITY`, held across the instances: an insert that would queue more
   * jobs than this is refused with `queue_full`. Unset: no limit.
   */
  readonly queueCapacity?: number;
  /** `RETRY_AFTER_SECONDS`: the `Retry-After` of `queue_full` and `store_unavailable`. */
  readonly retryAfterSeconds?: number;
  /** An idle pooled connection failed (the server restarted, a proxy cut it); the pool replaces it. */
  readonly onPoolError: (error: Error) => void;
}

/** A PostgreSQL job store, and the pool it runs on (claims and leases share it). */
export interface PostgresJobStore extends JobStore {
  readonly pool: pg.Pool;
  /** Jobs queued, waiting for any instance to claim them. */
  queued(): Promise<number>;
}

interface DataRow {
  readonly seq: string;
  readonly data: Job;
}

/**
 * A burst of inserts sends one notification: each NOTIFY takes a database-wide
 * lock at commit, and a listener needs only one hint to go and claim.
 */
const NOTIFY_DEBOUNCE_MS = 20;

/**
 * Changed jobs are announced in batches: a status change within this many ms, a
 * progress write within a second (event streams show progress every few seconds
 * at least; one NOTIFY per write would take the commit lock twice a second per job).
 */
const CHANGE_HINT_MS = 20;
const PROGRESS_HINT_MS = 1_000;
/** Ids per change notification: a payload stays well under PostgreSQL's 8000 bytes. */
const IDS_PER_HINT = 100;

/** Connections one instance opens at most: instances × (this + 1 listener) must fit `max_connections`. */
export const POOL_SIZE = 10;
/** How long a statement waits for a connection before the database counts as unreachable. */
const CONNECT_TIMEOUT_MS = 5_000;

/** Any fixed number: the instances of this service agree on it, nothing else in the database uses it. */
export const PRUNE_LOCK = 0x5343_5650;

/** Unique violation: a duplicate id, or a second queued or running job for one identity. */
const UNIQUE_VIOLATION = '23505';
/** The index that keeps one queued or running job per identity (see migrate-postgres.ts). */
const ACTIVE_IDENTITY_INDEX = 'jobs_one_active_per_identity';

/**
 * The job store shared by every instance that names one `DATABASE_URL`. Rows keep
 * the job JSON as jsonb plus the columns the queries need; the schema is migrated
 * at start, one instance at a time. Each call is one short statement: no
 * transaction stays open across a job's run.
 *
 * Dedup across instances rests on a unique index over the identity of queued and
 * running jobs: two instances that accept one object at once make one row, the
 * other insert fails. Succeeded jobs stay out of that index because `force`
 * runs a succeeded object again (a new job beside the old one); `findActive`
 * still answers with the newest succeeded one when nothing is queued or running.
 */
export async function createPostgresJobStore(config: PostgresJobStoreConfig): Promise<PostgresJobStore> {
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize ?? POOL_SIZE,
    // A request waits this long at most for a connection while the database is away, then gets a 503.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // A server that vanished without closing the socket is noticed instead of awaited.
    keepAlive: true,
  });
  pool.on('error', config.onPoolError);
  try {
    await migratePostgres(pool);
  } catch (error) {
    await pool.end();
    if (error instanceof AppError) throw error;
    throw new AppError(
      'internal',
      `The job store in DATABASE_URL could not be reached or migrated: ${(error as Error).message}`,
      { cause: error },
    );
  }
  let closed = false;
  // The pending wake-up notification.
  let notifying: NodeJS.Timeout | undefined;
  // Ids of jobs changed since the last change notification, when it is due, and its timer.
  const changed = new Set<string>();
  let hintDue = 0;
  let hinting: NodeJS.Timeout | undefined;

  function hint(ids: readonly string[], delayMs: number): void {
    for (const id of ids) changed.add(id);
    const due = Date.now() + delayMs;
    if (hinting !== undefined && hintDue <= due) return;
    clearTimeout(hinting);
    hintDue = due;
    hinting = setTimeout(() => {
      hinting = undefined;
      const ids = [...changed];
      changed.clear();
      const payloads: string[] = [];
      for (let at = 0; at < ids.length; at += IDS_PER_HINT) payloads.push(ids.slice(at, at + IDS_PER_HINT).join(','));
      // A lost hint costs a late event on another instance's streams, never a job.
      if (!closed && payloads.length > 0)
        pool
          .query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [CHANGES_CHANNEL, payloads])
          .catch(() => undefined);
    }, delayMs);
  }

  function announce(): void {
    notifying ??= setTimeout(() => {
      notifying = undefined;
      // A lost hint costs at most one poll interval.
      if (!closed) pool.query("SELECT pg_notify($1, '')", [JOBS_CHANNEL]).catch(() => undefined);
    }, NOTIFY_DEBOUNCE_MS);
  }

  /** Every statement goes through here, so an unreachable database is one error everywhere. */
  async function sql<R extends pg.QueryResultRow>(
    doing: string,
    text: string,
    values: readonly unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await pool.query<R>(text, values as unknown[]);
    } catch (error) {
      throw translatePostgresError(error, doing, config.retryAfterSeconds);
    }
  }

  async function one(doing: string, text: string, values: readonly unknown[]): Promise<Job | undefined> {
    const { rows } = await sql<DataRow>(doing, text, values);
    return rows[0]?.data;
  }

  return {
    pool,
    async insert(jobs) {
      if (jobs.length === 0) return;
      const items = jobs.map((job) => ({ job, identity: jobIdentity(job) ?? null }));
      try {
        await insertPostgresJobs(
          pool,
          { json: JSON.stringify(items), size: jobs.length },
          config.queueCapacity,
          config.retryAfterSeconds,
        );
        announce();
        hint(
          jobs.map((job) => job.id),
          CHANGE_HINT_MS,
        );
      } catch (error) {
        // queue_full
        if (error instanceof AppError) throw error;
        const { code, constraint } = error as { code?: string; constraint?: string };
        if (code === UNIQUE_VIOLATION && constraint === ACTIVE_IDENTITY_INDEX) {
          // Another instance stored a job for the same object in between: acceptJobs answers with it.
          throw new AppError(
            'duplicate_job',
            `Another instance stored a queued job for one of these ${jobs.length} object(s) at the same moment.`,
            { cause: error },
          );
        }
        throw translatePostgresError(error, `save ${jobs.length} job(s)`, config.retryAfterSeconds);
      }
    },
    get(id) {
      return one('read a job', 'SELECT seq, data FROM jobs WHERE id = $1', [id]);
    },
    async update(id, patch, condition) {
      // jsonb || merges top-level keys, as the other stores spread a patch over the job.
      const job = await one(
        'update a job',
        `UPDATE jobs SET data = data || $2::jsonb,
           status = (data || $2::jsonb)->>'status',
           finished_at = ((data || $2::jsonb)->>'finishedAt')::timestamptz
         WHERE id = $1
           AND ($3::boolean IS NOT TRUE OR status IN ('queued', 'running'))
           AND ($4::text IS NULL OR data->>'runner' = $4::text)
         RETURNING seq, data`,
        [id, JSON.stringify(patch), condition?.unfinished ?? null, condition?.runner ?? null],
      ).catch((error: unknown) => {
        // `one` translated it (internal); the driver's error is its cause.
        const { code, constraint } = (error instanceof AppError ? error.cause : error) as {
          code?: string;
          constraint?: string;
        };
        if (code === UNIQUE_VIOLATION && constraint === ACTIVE_IDENTITY_INDEX) {
          throw new AppError(
            'duplicate_job',
            `The job ${id} cannot be ${patch.status ?? 'changed'}: another job for the same object is queued or running.`,
            { cause: error },
          );
        }
        throw error;
      });
      if (job !== undefined) hint([id], patch.status === undefined ? PROGRESS_HINT_MS : CHANGE_HINT_MS);
      // A job handed back (an instance stopping) is for the others to claim.
      if (job !== undefined && patch.status === 'queued') announce();
      // The instance running a cancelled job stops it on this (its lease renewal finds it if this is lost).
      if (job !== undefined && patch.status === 'cancelled')
        await pool.query('SELECT pg_notify($1, $2)', [CANCELS_CHANNEL, id]).catch(() => undefined);
      return job;
    },
    async list(query) {
      const before = query.cursor === undefined ? Number.MAX_SAFE_INTEGER : decodeCursor(query.cursor);
      const { rows } =
        query.status === undefined
          ? await sql<DataRow>('list jobs', 'SELECT seq, data FROM jobs WHERE seq < $1 ORDER BY seq DESC LIMIT $2', [
              before,
              query.limit + 1,
            ])
          : await sql<DataRow>(
              'list jobs',
              'SELECT seq, data FROM jobs WHERE seq < $1 AND status = $2 ORDER BY seq DESC LIMIT $3',
              [before, query.status, query.limit + 1],
            );
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      return {
        jobs: page.map((row) => row.data),
        next: rows.length > query.limit && last !== undefined ? encodeCursor(Number(last.seq)) : null,
      };
    },
    findActive(identity) {
      // A queued or running job first (at most one, by the unique index), else the newest succeeded one.
      return one(
        'look up a job by its object',
        `SELECT seq, data FROM jobs WHERE identity = $1 AND status IN ('queued', 'running', 'succeeded')
         ORDER BY status = 'succeeded', seq DESC LIMIT 1`,
        [identity],
      );
    },
    async queued() {
      const { rows } = await sql<{ queued: number }>(
        'count queued jobs',
        "SELECT count(*)::int AS queued FROM jobs WHERE status = 'queued'",
      );
      return rows[0]?.queued ?? 0;
    },
    async unfinished() {
      const { rows } = await sql<DataRow>(
        'list unfinished jobs',
        "SELECT seq, data FROM jobs WHERE status IN ('queued', 'running') ORDER BY seq",
      );
      return rows.map((row) => row.data);
    },
    async prune(before) {
      // One instance prunes at a time: the others find the lock taken and skip this round. The lock is
      // transaction-level, so it goes with the statement's own transaction, whatever happens to the connection.
      const result = await sql(
        'prune old jobs',
        `WITH turn AS (SELECT pg_try_advisory_xact_lock($2) AS mine)
         DELETE FROM jobs WHERE (SELECT mine FROM turn) AND finished_at < $1
           AND status IN ('succeeded', 'failed', 'cancelled')`,
        [before.toISOString(), PRUNE_LOCK],
      );
      return result.rowCount ?? 0;
    },
    async ping() {
      if (closed) return false;
      try {
        await pool.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(notifying);
      clearTimeout(hinting);
      await pool.end();
    },
  };
}
