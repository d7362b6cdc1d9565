import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.ts';
import { decodeCursor, encodeCursor } from './job-cursor.ts';
import type { Job } from './job.ts';
import { jobIdentity, meetsCondition, type JobStore, type JobUpdateCondition } from './job-store.ts';

/** Version of the table layout below; a store written by a newer version is refused. */
export const SCHEMA_VERSION = 3;

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE jobs (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     status TEXT NOT NULL,
     identity TEXT,
     finished_at TEXT,
     data TEXT NOT NULL
   );
   CREATE INDEX jobs_by_status ON jobs (status, seq);
   CREATE INDEX jobs_by_identity ON jobs (identity) WHERE identity IS NOT NULL;
   CREATE INDEX jobs_by_finish ON jobs (finished_at) WHERE finished_at IS NOT NULL;`,
  // The pipeline joins the dedup identity; json_array writes what JSON.stringify writes for strings.
  `UPDATE jobs SET identity = json_array(
     json_extract(data, '$.source.bucket'), json_extract(data, '$.source.key'),
     coalesce(json_extract(data, '$.source.versionId'), json_extract(data, '$.source.etag')),
     json_extract(data, '$.pipeline'))
   WHERE identity IS NOT NULL;`,
  // Jobs name the instance that ran them; those stored before ran on no named instance.
  `UPDATE jobs SET data = json_set(data, '$.runner', json('null')) WHERE json_type(data, '$.runner') IS NULL;`,
];

export interface SqliteJobStoreConfig {
  /** Directory of the database file (`DATA_DIR`), or `:memory:`. */
  readonly dataDir: string;
}

interface Row {
  readonly seq: number;
  readonly data: string;
}

/**
 * The embedded, durable job store: one SQLite file under DATA_DIR in WAL mode
 * with full fsync, so a job is on disk before its trigger is answered. Rows keep
 * the job JSON plus the columns the queries need (status, dedup identity, finish time).
 */
export function createSqliteJobStore(config: SqliteJobStoreConfig): JobStore {
  const file = config.dataDir === ':memory:' ? ':memory:' : path.join(config.dataDir, 'jobs.sqlite');
  if (file !== ':memory:') mkdirSync(config.dataDir, { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  migrate(db);

  const insertJob = db.prepare<[string, string, string | null, string | null, string]>(
    'INSERT INTO jobs (id, status, identity, finished_at, data) VALUES (?, ?, ?, ?, ?)',
  );
  const selectJob = db.prepare<[string], Row>('SELECT seq, data FROM jobs WHERE id = ?');
  const updateJob = db.prepare<[string, string | null, string, string]>(
    'UPDATE jobs SET status = ?, finished_at = ?, data = ? WHERE id = ?',
  );
  const selectPage = db.prepare<[number, number], Row>(
    'SELECT seq, data FROM jobs WHERE seq < ? ORDER BY seq DESC LIMIT ?',
  );
  const selectPageByStatus = db.prepare<[number, string, number], Row>(
    'SELECT seq, data FROM jobs WHERE seq < ? AND status = ? ORDER BY seq DESC LIMIT ?',
  );
  const selectActive = db.prepare<[string], Row>(
    "SELECT seq, data FROM jobs WHERE identity = ? AND status IN ('queued', 'running', 'succeeded') ORDER BY status = 'succeeded', seq DESC LIMIT 1",
  );
  const selectUnfinished = db.prepare<[], Row>(
    "SELECT seq, data FROM jobs WHERE status IN ('queued', 'running') ORDER BY seq ASC",
  );
  const deleteFinished = db.prepare<[string]>(
    "DELETE FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ? AND status IN ('succeeded', 'failed', 'cancelled')",
  );

  const insertAll = db.transaction((jobs: readonly Job[]) => {
    for (const job of jobs) {
      insertJob.run(job.id, job.status, jobIdentity(job) ?? null, job.finishedAt, JSON.stringify(job));
    }
  });
  const patchOne = db.transaction(
    (id: string, patch: Partial<Job>, condition: JobUpdateCondition | undefined): Job | undefined => {
      const row = selectJob.get(id);
      if (row === undefined) return undefined;
      const stored = JSON.parse(row.data) as Job;
      if (!meetsCondition(stored, condition)) return undefined;
      const job: Job = { ...stored, ...patch };
      updateJob.run(job.status, job.finishedAt, JSON.stringify(job), id);
      return job;
    },
  );

  return {
    async insert(jobs) {
      try {
        insertAll(jobs);
      } catch (error) {
        throw new AppError(
          'internal',
          `The job store could not save ${jobs.length} job(s): ${(error as Error).message}`,
          { cause: error },
        );
      }
    },
    async get(id) {
      const row = selectJob.get(id);
      return row === undefined ? undefined : (JSON.parse(row.data) as Job);
    },
    async update(id, patch, condition) {
      return patchOne(id, patch, condition);
    },
    async list(query) {
      const before = query.cursor === undefined ? Number.MAX_SAFE_INTEGER : decodeCursor(query.cursor);
      const rows =
        query.status === undefined
          ? selectPage.all(before, query.limit + 1)
          : selectPageByStatus.all(before, query.status, query.limit + 1);
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      return {
        jobs: page.map((row) => JSON.parse(row.data) as Job),
        next: rows.length > query.limit && last !== undefined ? encodeCursor(last.seq) : null,
      };
    },
    async findActive(identity) {
      const row = selectActive.get(identity);
      return row === undefined ? undefined : (JSON.parse(row.data) as Job);
    },
    async unfinished() {
      return selectUnfinished.all().map((row) => JSON.parse(row.data) as Job);
    },
    async prune(before) {
      return deleteFinished.run(before.toISOString()).changes;
    },
    async ping() {
      try {
        return db.prepare('SELECT 1 AS ok').get() !== undefined;
      } catch {
        return false;
      }
    },
    async close() {
      if (db.open) db.close();
    },
  };
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new AppError(
      'config_invalid',
      `The job store was written by a newer version (schema ${current}; this one knows ${SCHEMA_VERSION}).`,
    );
  }
  db.transaction(() => {
    for (let version = current; version < SCHEMA_VERSION; version += 1) db.exec(MIGRATIONS[version]!);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}
