import { randomUUID } from 'node:crypto';
import { EMPTY_PROGRESS, type Job } from '../../src/jobs/job.ts';

export type QueuedJobOverrides = Partial<Job> & { readonly key?: string; readonly etag?: string | null };

/** A queued job as acceptJobs stores it: a fresh id, a fresh key and ETag unless given, in the input bucket. */
export function queuedJob(overrides: QueuedJobOverrides = {}): Job {
  const { key = `k/${randomUUID()}.csv`, etag = `"${randomUUID()}"`, ...rest } = overrides;
  return {
    id: randomUUID(),
    status: 'queued',
    source: { bucket: 'ingest', key, versionId: null, etag, size: 10 },
    trigger: 'rest',
    pipeline: 'default',
    attempts: 0,
    createdAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
    progress: EMPTY_PROGRESS,
    output: null,
    error: null,
    runner: null,
    duplicate: false,
    ...rest,
  };
}
