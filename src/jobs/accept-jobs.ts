import { randomUUID } from 'node:crypto';
import { AppError } from '../errors.ts';
import type { JobQueue } from '../pipeline/job-queue.ts';
import { EMPTY_PROGRESS, type Job, type JobTrigger } from './job.ts';
import { jobIdentity, type JobStore } from './job-store.ts';

/** One object a trigger asks to process. */
export interface JobRequest {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string | null;
  readonly etag?: string | null;
  readonly size?: number | null;
  /** Pipeline name asked for; unset: chosen by key. */
  readonly pipeline?: string;
}

/** What a HEAD request learnt of an object; undefined when it does not exist. */
export interface ObjectHead {
  readonly etag: string | null;
  readonly size: number | null;
  readonly versionId: string | null;
}

export interface AcceptJobsDeps {
  readonly store: JobStore;
  readonly queue: Pick<JobQueue<Job>, 'enqueue' | 'free'>;
  /** HEADs an object: undefined when it does not exist; throws when S3 cannot be reached. */
  readonly headObject: (bucket: string, key: string, versionId: string | undefined) => Promise<ObjectHead | undefined>;
  /** The pipeline name for a key, or the one asked for; throws `unknown_pipeline`. */
  readonly resolvePipeline: (key: string, name: string | undefined) => string;
  /** False while shutting down. */
  readonly accepting: () => boolean;
  readonly now?: () => Date;
  readonly newId?: () => string;
  /** Seconds a refused client is asked to wait. */
  readonly retryAfterSeconds?: number;
}

export type AcceptJobs = (requests: readonly JobRequest[], trigger: JobTrigger) => Promise<Job[]>;

/**
 * The one way jobs come in (triggers, uploads, embedded S3 events): resolves each
 * request's pipeline and object identity, answers duplicates with the existing
 * job (`duplicate: true`), and stores then enqueues the new ones — all of them or,
 * past the queue's capacity, none (`queue_full`).
 */
export function createAcceptJobs(deps: AcceptJobsDeps): AcceptJobs {
  const { store, queue, headObject, resolvePipeline, accepting, now = () => new Date(), newId = randomUUID, retryAfterSeconds = 5 } = deps;
  // Serialises the check-then-insert section, so two deliveries of one event make one job.
  let turn: Promise<unknown> = Promise.resolve();

  return async function acceptJobs(requests, trigger) {
    refuseWhenClosed();
    const prepared = await Promise.all(requests.map(async (request) => {
      const pipeline = resolvePipeline(request.key, request.pipeline);
      return { request: await identify(request), pipeline };
    }));
    const run = turn.then(() => admit(prepared, trigger));
    turn = run.catch(() => undefined);
    return run;
  };

  function refuseWhenClosed(): void {
    if (!accepting()) throw new AppError('shutting_down', 'The service is shutting down and accepts no new jobs; retry against another instance or after restart.', { headers: { 'Retry-After': String(retryAfterSeconds) } });
  }

  async function identify(request: JobRequest): Promise<JobRequest> {
    if (request.versionId || request.etag) return request;
    let head: ObjectHead | undefined;
    try {
      head = await headObject(request.bucket, request.key, undefined);
    } catch {
      return request; // S3 unreachable now: accept, and let the job's retries take over.
    }
    if (head === undefined) {
      throw new AppError('no_such_key', `The object s3://${request.bucket}/${request.key} does not exist.`);
    }
    return { ...request, etag: head.etag, size: request.size ?? head.size, versionId: head.versionId };
  }

  async function admit(prepared: readonly { request: JobRequest; pipeline: string }[], trigger: JobTrigger): Promise<Job[]> {
    refuseWhenClosed();
    const answer: Job[] = [];
    const fresh: Job[] = [];
    const seen = new Map<string, Job>();
    for (const { request, pipeline } of prepared) {
      const job = newJob(request, pipeline, trigger);
      const identity = jobIdentity(job.source);
      const existing = identity === undefined ? undefined : (seen.get(identity) ?? (await store.findActive(identity)));
      if (existing !== undefined) {
        answer.push({ ...existing, duplicate: true });
        continue;
      }
      if (identity !== undefined) seen.set(identity, job);
      fresh.push(job);
      answer.push(job);
    }
    if (fresh.length > queue.free()) {
      throw new AppError('queue_full', `The job queue is full: ${fresh.length} job(s) asked for, room for ${queue.free()}. Nothing of this request was accepted.`, {
        headers: { 'Retry-After': String(retryAfterSeconds) },
      });
    }
    await store.insert(fresh);
    queue.enqueue(fresh);
    return answer;
  }

  function newJob(request: JobRequest, pipeline: string, trigger: JobTrigger): Job {
    return {
      id: newId(),
      status: 'queued',
      source: {
        bucket: request.bucket,
        key: request.key,
        versionId: request.versionId ?? null,
        etag: request.etag ?? null,
        size: request.size ?? null,
      },
      trigger,
      pipeline,
      attempts: 0,
      createdAt: now().toISOString(),
      startedAt: null,
      finishedAt: null,
      progress: { ...EMPTY_PROGRESS, totalBytes: request.size ?? null },
      output: null,
      error: null,
      duplicate: false,
    };
  }
}
