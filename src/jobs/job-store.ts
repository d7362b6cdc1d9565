import type { Job, JobStatus } from './job.ts';

/** Fields that change as a job moves through its life. */
export type JobPatch = Partial<
  Pick<Job, 'status' | 'attempts' | 'startedAt' | 'finishedAt' | 'progress' | 'output' | 'error' | 'runner'>
>;

export interface JobQuery {
  readonly status?: JobStatus;
  /** 1 to 1000. */
  readonly limit: number;
  /** Opaque cursor from a previous page's `next`. */
  readonly cursor?: string;
}

export interface JobPage {
  readonly jobs: readonly Job[];
  readonly next: string | null;
}

/** When an update applies; an unset field does not restrict it. */
export interface JobUpdateCondition {
  /** Only while the job is queued or running: a finished job's outcome is never replaced. */
  readonly unfinished?: boolean;
  /** Only while this instance holds the job (a shared store): an instance that took it over owns its row. */
  readonly runner?: string;
}

/** Whether a job as stored meets an update's condition (the stores that test it in code). */
export function meetsCondition(job: Job, condition: JobUpdateCondition | undefined): boolean {
  if (condition?.unfinished === true && job.status !== 'queued' && job.status !== 'running') return false;
  return condition?.runner === undefined || job.runner === condition.runner;
}

/**
 * Where jobs live. The embedded store is the default; the interface is small so
 * that a shared store can replace it when several instances serve one queue.
 */
export interface JobStore {
  /** Stores new jobs, all or none; durable when the promise resolves. */
  insert(jobs: readonly Job[]): Promise<void>;
  get(id: string): Promise<Job | undefined>;
  /** Applies a patch if the condition holds; returns the job as it now is, or undefined if unknown or not applied. */
  update(id: string, patch: JobPatch, condition?: JobUpdateCondition): Promise<Job | undefined>;
  /** Newest first. Throws `validation_failed` for a cursor it did not issue. */
  list(query: JobQuery): Promise<JobPage>;
  /** The queued, running or succeeded job for an object identity (see `jobIdentity`). */
  findActive(identity: string): Promise<Job | undefined>;
  /** Jobs still queued or running, oldest first (restart recovery). */
  unfinished(): Promise<readonly Job[]>;
  /** Deletes finished jobs that finished before `before`; returns how many. */
  prune(before: Date): Promise<number>;
  /** Whether the store answers (readiness). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * The dedup identity of a job: the source object (bucket, key, its version or ETag)
 * and the pipeline that reads it, so another pipeline on the same bytes is a new job.
 */
export function jobIdentity(job: Pick<Job, 'source' | 'pipeline'>): string | undefined {
  const { source, pipeline } = job;
  const version = source.versionId ?? source.etag;
  return version === null || version === undefined
    ? undefined
    : JSON.stringify([source.bucket, source.key, version, pipeline]);
}
