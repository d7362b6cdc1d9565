import { randomUUID } from 'node:crypto';
import { DEFAULT_RETRY_AFTER_SECONDS } from '../config/config.ts';
import { AppError, isAppError, type ErrorCode } from '../errors.ts';
import type { JobQueue } from '../pipeline/job-queue.ts';
import type { ObjectHead } from '../storage/head-source-object.ts';
import { checkBucketAllowed } from './check-bucket-allowed.ts';
import { checkObjectKey } from './check-object-key.ts';
import { EMPTY_PROGRESS, type Job, type JobTrigger } from './job.ts';
import { jobIdentity, type JobStore } from './job-store.ts';
import { mapConcurrent } from './map-concurrent.ts';

/**
 * HEAD requests of one trigger under way at once. They share the S3 client's
 * socket pool (16 sockets at the least) with uploads, downloads and running
 * jobs: a 1,000-record event without ETags would otherwise queue 1,000 requests
 * ahead of all of them. Half the smallest pool still HEADs 1,000 keys in about
 * 125 round trips.
 */
const HEAD_CONCURRENCY = 8;

/** What a HEAD at trigger time may answer that refuses the trigger at once. */
const FINAL_HEAD_ERRORS: ReadonlySet<ErrorCode> = new Set(['no_such_bucket', 'access_denied']);

/** One object a trigger asks to process. */
export interface JobRequest {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string | null;
  readonly etag?: string | null;
  readonly size?: number | null;
  /** Pipeline name asked for; unset: chosen by key. */
  readonly pipeline?: string;
  /** Run the object again even when a job for it succeeded (a queued or running one is still the answer). */
  readonly force?: boolean;
}

export interface AcceptJobsDeps {
  readonly store: JobStore;
  /** ALLOWED_BUCKETS: a request naming another bucket is `bucket_not_allowed`. */
  readonly allowedBuckets: readonly string[];
  /** OUTPUT_PREFIX: keys under it are `invalid_key`, as are keys breaking the other key rules. */
  readonly reservedPrefix: string;
  readonly queue: Pick<JobQueue<Job>, 'enqueue' | 'free'>;
  /**
   * HEADs an object: undefined when it does not exist; throws `no_such_bucket`, `access_denied`, or retryable errors
   * when S3 cannot be reached.
   */
  readonly headObject: (bucket: string, key: string, versionId: string | undefined) => Promise<ObjectHead | undefined>;
  /** The pipeline name for a key, or the one asked for; throws `unknown_pipeline`. */
  readonly resolvePipeline: (key: string, name: string | undefined) => string;
  /** False while shutting down. */
  readonly accepting: () => boolean;
  readonly now?: () => Date;
  readonly newId?: () => string;
  /** Seconds a refused client is asked to wait (`RETRY_AFTER_SECONDS`). */
  readonly retryAfterSeconds?: number;
  /** HEAD requests under way at once for one call; default 8. */
  readonly headConcurrency?: number;
}

export type AcceptJobs = (requests: readonly JobRequest[], trigger: JobTrigger) => Promise<Job[]>;

/**
 * The one way jobs come in (triggers, uploads, embedded S3 events): checks every
 * request's bucket and key before any S3 call, resolves each request's pipeline
 * and object identity (HEADs, a few at once), answers duplicates with the
 * existing job (`duplicate: true`; with `force`, a succeeded one is run again), and
 * stores then enqueues the new ones. All or nothing: one request refused (a
 * bucket, a key, a pipeline, a missing object) or the queue's capacity reached
 * (`queue_full`) refuses them all.
 */
export function createAcceptJobs(deps: AcceptJobsDeps): AcceptJobs {
  const {
    store,
    queue,
    headObject,
    resolvePipeline,
    accepting,
    allowedBuckets,
    reservedPrefix,
    now = () => new Date(),
    newId = randomUUID,
    retryAfterSeconds = DEFAULT_RETRY_AFTER_SECONDS,
    headConcurrency = HEAD_CONCURRENCY,
  } = deps;
  // Serialises the check-then-insert section, so two deliveries of one event make one job.
  let turn: Promise<unknown> = Promise.resolve();

  return async function acceptJobs(requests, trigger) {
    refuseWhenClosed();
    for (const request of requests) {
      checkBucketAllowed(request.bucket, allowedBuckets);
      checkObjectKey(request.key, reservedPrefix);
    }
    const pipelines = requests.map((request) => resolvePipeline(request.key, request.pipeline));
    const prepared = await mapConcurrent(requests, headConcurrency, async (request, index) => ({
      request: await identify(request),
      pipeline: pipelines[index]!,
    }));
    const run = turn.then(() => admitOnce(prepared, trigger));
    turn = run.catch(() => undefined);
    return run;
  };

  function refuseWhenClosed(): void {
    if (!accepting())
      throw new AppError(
        'shutting_down',
        'The service is shutting down and accepts no new jobs; retry against another instance or after restart.',
        { headers: { 'Retry-After': String(retryAfterSeconds) } },
      );
  }

  async function identify(request: JobRequest): Promise<JobRequest> {
    if (request.versionId || request.etag) return request;
    let head: ObjectHead | undefined;
    try {
      head = await headObject(request.bucket, request.key, undefined);
    } catch (error) {
      // A missing bucket or refused access will not change by itself: say so now.
      if (isAppError(error) && FINAL_HEAD_ERRORS.has(error.code)) throw error;
      return request; // S3 unreachable now (or an unexpected answer): accept, and let the job's retries take over.
    }
    if (head === undefined) {
      throw new AppError('no_such_key', `The object s3://${request.bucket}/${request.key} does not exist.`);
    }
    return { ...request, etag: head.etag, size: request.size ?? head.size, versionId: head.versionId };
  }

  /**
   * Admits the requests; when another instance stored a job for one of them in
   * between (a shared store), admits them again, which answers that job as the duplicate.
   */
  async function admitOnce(
    prepared: readonly { request: JobRequest; pipeline: string }[],
    trigger: JobTrigger,
  ): Promise<Job[]> {
    try {
      return await admit(prepared, trigger);
    } catch (error) {
      if (!(isAppError(error) && error.code === 'duplicate_job')) throw error;
      return admit(prepared, trigger);
    }
  }

  async function admit(
    prepared: readonly { request: JobRequest; pipeline: string }[],
    trigger: JobTrigger,
  ): Promise<Job[]> {
    refuseWhenClosed();
    const answer: Job[] = [];
    const fresh: Job[] = [];
    const seen = new Map<string, Job>();
    for (const { request, pipeline } of prepared) {
      const job = newJob(request, pipeline, trigger);
      const identity = jobIdentity(job);
      const existing = identity === undefined ? undefined : (seen.get(identity) ?? (await store.findActive(identity)));
      if (existing !== undefined && !(request.force === true && existing.status === 'succeeded')) {
        answer.push({ ...existing, duplicate: true });
        continue;
      }
      if (identity !== undefined) seen.set(identity, job);
      fresh.push(job);
      answer.push(job);
    }
    if (fresh.length > queue.free()) {
      throw new AppError(
        'queue_full',
        `The job queue is full: ${fresh.length} job(s) asked for, room for ${queue.free()}. Nothing of this request was accepted.`,
        {
          headers: { 'Retry-After': String(retryAfterSeconds) },
        },
      );
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
      runner: null,
      duplicate: false,
    };
  }
}
