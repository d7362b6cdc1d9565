import { DEFAULT_RETRY_AFTER_SECONDS } from '../config/config.ts';
import type pg from 'pg';
import { AppError } from '../errors.ts';

/** Any fixed number: the instances of this service agree on it, nothing else in the database uses it. */
const CAPACITY_LOCK = 0x5343_5651;

/** Rows in batch order: their sequence follows it, as list() pages by it. */
const INSERT_BATCH = `INSERT INTO jobs (id, status, identity, finished_at, data)
  SELECT item->'job'->>'id', item->'job'->>'status', item->>'identity', (item->'job'->>'finishedAt')::timestamptz, item->'job'
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS batch(item, n) ORDER BY n`;

/**
 * Inserts a batch of jobs (a JSON array of `{job, identity}`), all or none.
 * With a `capacity` (`QUEUE_CAPACITY`), the batch goes in only if the jobs
 * queued across every instance stay within it, else `queue_full`: the count and
 * the insert run in one transaction under a transaction-level advisory lock, so
 * two instances accepting at once count each other's jobs (each statement of a
 * READ COMMITTED transaction sees what committed before it began, and the lock
 * makes the other commit come first). The lock is held for a count over the
 * status index and one insert, and goes with the transaction.
 */
export async function insertPostgresJobs(
  pool: pg.Pool,
  batch: { readonly json: string; readonly size: number },
  capacity?: number,
  retryAfterSeconds = DEFAULT_RETRY_AFTER_SECONDS,
): Promise<void> {
  if (capacity === undefined) {
    await pool.query(INSERT_BATCH, [batch.json]);
    return;
  }
  const client = await pool.connect();
  // Checked out, the client has no listener of the pool's: a dropped connection must not crash the process.
  // The statement under way fails too, and that failure is what this function reports.
  const ignore = () => undefined;
  client.on('error', ignore);
  // Set when the connection cannot be trusted any more: the pool then closes it instead of lending it again.
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [CAPACITY_LOCK]);
    const { rows } = await client.query<{ queued: string }>(
      "SELECT count(*) AS queued FROM jobs WHERE status = 'queued'",
    );
    const room = Math.max(0, capacity - Number(rows[0]?.queued ?? 0));
    if (batch.size > room) {
      throw new AppError(
        'queue_full',
        `The job queue is full: ${batch.size} job(s) asked for, room for ${room} (QUEUE_CAPACITY ${capacity}, across the instances). Nothing of this request was accepted.`,
        { headers: { 'Retry-After': String(retryAfterSeconds) } },
      );
    }
    await client.query(INSERT_BATCH, [batch.json]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw error;
  } finally {
    client.off('error', ignore);
    client.release(broken);
  }
}
