import { AppError } from '../../src/errors.ts';
import { isFinished, type Job } from '../../src/jobs/job.ts';
import { decodeCursor, encodeCursor } from '../../src/jobs/job-cursor.ts';
import {
  jobIdentity,
  meetsCondition,
  type JobPage,
  type JobPatch,
  type JobQuery,
  type JobStore,
  type JobUpdateCondition,
} from '../../src/jobs/job-store.ts';

/** A job store in process memory: for specs and for running without a data directory. */
export function createMemoryJobStore(): JobStore {
  // Jobs by id, in insertion order (Map keeps it).
  const jobs = new Map<string, { seq: number; job: Job }>();
  // Next insertion sequence number; cursors point at these.
  let seq = 0;

  return {
    async insert(batch) {
      for (const job of batch) {
        if (jobs.has(job.id)) throw new AppError('internal', `A job with id ${job.id} already exists.`);
      }
      for (const job of batch) jobs.set(job.id, { seq: ++seq, job });
    },
    async get(id) {
      return jobs.get(id)?.job;
    },
    async update(id, patch: JobPatch, condition?: JobUpdateCondition) {
      const entry = jobs.get(id);
      if (entry === undefined || !meetsCondition(entry.job, condition)) return undefined;
      entry.job = { ...entry.job, ...patch };
      return entry.job;
    },
    async list(query: JobQuery): Promise<JobPage> {
      const before = query.cursor === undefined ? Infinity : decodeCursor(query.cursor);
      const page: Job[] = [];
      let next: string | null = null;
      const entries = [...jobs.values()].reverse();
      for (const entry of entries) {
        if (entry.seq >= before) continue;
        if (query.status !== undefined && entry.job.status !== query.status) continue;
        if (page.length === query.limit) {
          next = encodeCursor(jobs.get(page[page.length - 1]!.id)!.seq);
          break;
        }
        page.push(entry.job);
      }
      return { jobs: page, next };
    },
    async findActive(identity) {
      // A queued or running job first, else the newest succeeded one (`force` may have made several).
      let succeeded: Job | undefined;
      for (const { job } of jobs.values()) {
        if (jobIdentity(job) !== identity) continue;
        if (job.status === 'queued' || job.status === 'running') return job;
        if (job.status === 'succeeded') succeeded = job;
      }
      return succeeded;
    },
    async unfinished() {
      return [...jobs.values()].map((entry) => entry.job).filter((job) => !isFinished(job.status));
    },
    async prune(before) {
      let removed = 0;
      for (const [id, { job }] of jobs) {
        if (isFinished(job.status) && job.finishedAt !== null && new Date(job.finishedAt) < before) {
          jobs.delete(id);
          removed += 1;
        }
      }
      return removed;
    },
    async ping() {
      return true;
    },
    async close() {},
  };
}
