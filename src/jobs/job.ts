import type { AppErrorJson } from '../errors.ts';
import type { JobEvent } from '../pipeline/job-event.ts';

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const FINISHED_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];

export const JOB_TRIGGERS = ['rest', 's3-event', 'eventbridge', 'sns', 'upload'] as const;
export type JobTrigger = (typeof JOB_TRIGGERS)[number];

export const OUTPUT_NAMES = ['rows', 'rejects', 'manifest'] as const;
export type OutputName = (typeof OUTPUT_NAMES)[number];

/** The object a job reads. */
export interface JobSource {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string | null;
  readonly etag: string | null;
  readonly size: number | null;
}

export interface JobProgress {
  readonly bytesRead: number;
  readonly totalBytes: number | null;
  readonly rows: number;
  readonly rejected: number;
}

export interface JobOutput {
  readonly bucket: string;
  readonly rows: string;
  readonly rejects: string;
  readonly manifest: string;
}

/** Why a job failed: its error's JSON (`line` on a csv error). */
export type JobError = AppErrorJson;

/** A job as the API shows it (the contract's Job JSON). */
export interface Job {
  readonly id: string;
  readonly status: JobStatus;
  readonly source: JobSource;
  readonly trigger: JobTrigger;
  readonly pipeline: string;
  readonly attempts: number;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly progress: JobProgress;
  readonly output: JobOutput | null;
  readonly error: JobError | null;
  /** `INSTANCE_ID` of the instance running the job, or that ran it last; null before it first starts. */
  readonly runner: string | null;
  readonly duplicate?: boolean;
}

export function isFinished(status: JobStatus): boolean {
  return FINISHED_STATUSES.includes(status);
}

export const EMPTY_PROGRESS: JobProgress = Object.freeze({ bytesRead: 0, totalBytes: null, rows: 0, rejected: 0 });

/** What a finished attempt hands back: at least where its outputs are. */
export interface JobRunResult {
  readonly output: JobOutput;
  readonly progress?: JobProgress;
}

/** The lifecycle stream's events: the store, the error channel, metrics and event streams subscribe to it. */
export type JobLifecycleEvent = JobEvent<Job, JobProgress, JobRunResult>;
