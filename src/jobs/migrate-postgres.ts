import type pg from 'pg';
import { AppError } from '../errors.ts';

/** Each entry takes the schema from version i to i + 1; entries are never edited once released. */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `CREATE TABLE jobs (
     seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     id text NOT NULL UNIQUE,
     status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
     identity text,
     finished_at timestamptz,
     data jsonb NOT NULL
   );
   CREATE INDEX jobs_by_status ON jobs (status, seq);
   CREATE UNIQUE INDEX jobs_one_active_per_identity ON jobs (identity) WHERE status IN ('queued', 'running');
   CREATE INDEX jobs_succeeded_by_identity ON jobs (identity, seq) WHERE status = 'succeeded';
   CREATE INDEX jobs_by_finish ON jobs (finished_at) WHERE finished_at IS NOT NULL;`,
  // Claims: the instance holding a running job, and until when (the database's clock).
  `ALTER TABLE jobs ADD COLUMN runner text, ADD COLUMN lease_expires_at timestamptz;`,
];

export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS.length;

/** Any fixed number: the instances of this service agree on it, nothing else in the database uses it. */
const MIGRATION_LOCK = 0x5343_5649;

/**
 * Brings the schema to `POSTGRES_SCHEMA_VERSION` in one transaction, under a
 * transaction-level advisory lock: instances starting together wait for each
 * other, the first migrates and the others find the work done. The lock goes
 * with the transaction, so an instance that dies mid-migration leaves nothing
 * locked and nothing half-applied. A database written by a newer version is refused.
 */
export async function migratePostgres(pool: pg.Pool): Promise<{ from: number; to: number }> {
  const client = await pool.connect();
  // A checked-out client has no listener of the pool's: a connection dropped mid-migration would crash the process.
  // The statement under way fails too, and that failure is what this function reports.
  const ignore = () => undefined;
  client.on('error', ignore);
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS job_store_schema (version integer NOT NULL)');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM job_store_schema');
    const current = rows[0]?.version ?? 0;
    if (current > POSTGRES_SCHEMA_VERSION) {
      throw new AppError(
        'config_invalid',
        `The job store in DATABASE_URL was written by a newer version (schema ${current}; this one knows ${POSTGRES_SCHEMA_VERSION}).`,
      );
    }
    for (let version = current; version < POSTGRES_SCHEMA_VERSION; version += 1)
      await client.query(POSTGRES_MIGRATIONS[version]!);
    if (rows.length === 0)
      await client.query('INSERT INTO job_store_schema (version) VALUES ($1)', [POSTGRES_SCHEMA_VERSION]);
    else await client.query('UPDATE job_store_schema SET version = $1', [POSTGRES_SCHEMA_VERSION]);
    await client.query('COMMIT');
    return { from: current, to: POSTGRES_SCHEMA_VERSION };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.off('error', ignore);
    client.release();
  }
}
