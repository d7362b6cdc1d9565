import type pg from 'pg';
import type { Job } from './job.ts';

export interface PostgresJobClaimsConfig {
  /** `INSTANCE_ID`: whose claims these are. */
  readonly runner: string;
  /** `JOB_LEASE_MS`: how long a claim holds without renewal. */
  readonly leaseMs: number;
}

/** Claims on the shared queue, for one instance. */
export interface PostgresJobClaims {
  /** Takes up to `limit` jobs, oldest first: queued ones, and running ones whose lease expired. */
  claim(limit: number): Promise<Job[]>;
  /** Extends the leases of `ids` this instance still holds, and says what became of the others. */
  renew(ids: readonly string[]): Promise<LeaseRenewal>;
}

/** What a renewal found. An id in neither set is lost: another instance holds it, or it is gone. */
export interface LeaseRenewal {
  /** Still this instance's: their leases were extended. */
  readonly held: ReadonlySet<string>;
  /** Cancelled (through the API, on any instance) while this instance ran them. */
  readonly cancelled: ReadonlySet<string>;
}

/**
 * Claims and leases in single statements, timed by the database's `now()` so the
 * instances' clocks never matter. `FOR UPDATE SKIP LOCKED` lets instances claim
 * at once without waiting on each other's rows, and no row is taken twice. A
 * claimed job is `running` with this instance as its runner until its lease
 * runs out; an instance that died stops renewing, and the job is claimed again
 * (its attempts so far still count).
 */
export function createPostgresJobClaims(pool: pg.Pool, config: PostgresJobClaimsConfig): PostgresJobClaims {
  const { runner, leaseMs } = config;
  return {
    async claim(limit) {
      if (limit <= 0) return [];
      const { rows } = await pool.query<{ seq: string; data: Job }>(
        `WITH next AS (
           SELECT seq FROM jobs
           WHERE status = 'queued' OR (status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < now()))
           ORDER BY seq LIMIT $3
           FOR UPDATE SKIP LOCKED
         )
         UPDATE jobs SET status = 'running', runner = $1,
           lease_expires_at = now() + make_interval(secs => $2::double precision / 1000),
           data = jobs.data || jsonb_build_object('status', 'running', 'runner', $1::text)
         FROM next WHERE jobs.seq = next.seq
         RETURNING jobs.seq, jobs.data`,
        [runner, leaseMs, limit],
      );
      return rows.sort((a, b) => Number(a.seq) - Number(b.seq)).map((row) => row.data);
    },
    async renew(ids) {
      if (ids.length === 0) return { held: new Set(), cancelled: new Set() };
      // The SELECT reads the rows as they were before the UPDATE: status and runner, which it does not change.
      const { rows } = await pool.query<{ id: string; held: boolean; status: string; runner: string | null }>(
        `WITH renewed AS (
           UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $2::double precision / 1000)
           WHERE id = ANY($3::text[]) AND runner = $1 AND status = 'running'
           RETURNING id
         )
         SELECT jobs.id, renewed.id IS NOT NULL AS held, jobs.status, jobs.runner
         FROM jobs LEFT JOIN renewed ON renewed.id = jobs.id
         WHERE jobs.id = ANY($3::text[])`,
        [runner, leaseMs, ids],
      );
      return {
        held: new Set(rows.filter((row) => row.held).map((row) => row.id)),
        cancelled: new Set(
          rows.filter((row) => row.status === 'cancelled' && row.runner === runner).map((row) => row.id),
        ),
      };
    },
  };
}
