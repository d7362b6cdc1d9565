import { toAppError } from '../errors.ts';
import type { AcceptJobs, JobRequest } from './accept-jobs.ts';
import type { Logger } from '../logging/create-logger.ts';
import type { EmbeddedS3Event } from '../storage/embedded-s3.ts';
import type { OwnWrites } from './create-own-writes.ts';

export interface EmbeddedEventHandlerDeps {
  readonly acceptJobs: AcceptJobs;
  readonly logger: Logger;
  readonly inputBucket: string;
  readonly outputBucket: string;
  readonly outputPrefix: string;
  readonly ownWrites: OwnWrites;
  /** Wait before events refused with `queue_full` are offered again, ms. Default 1 000. */
  readonly retryMs?: number;
  /** Refused events kept for a retry at most; past it they are dropped (logged as errors). Default 10 000. */
  readonly maxDeferred?: number;
}

/** Handles one record of the embedded server; `close()` stops the retries (shutdown). */
export type EmbeddedEventHandler = ((record: EmbeddedS3Event) => void) & { close(): void };

/** The names of a job's outputs: with an empty OUTPUT_PREFIX they are how outputs are told apart. */
const OUTPUT_NAME = /\/(rows\.ndjson|rejects\.ndjson|manifest\.json)$/;

/**
 * In embedded mode, an object put into the input bucket by any S3 client starts
 * a job, as an S3 event notification would (trigger `s3-event`). Skipped: other
 * buckets, removals, job outputs (keys under OUTPUT_PREFIX), and the objects the
 * upload endpoint writes itself. The embedded server's keys are not URL-encoded.
 *
 * An event refused because the queue is full is kept and offered again every
 * `retryMs`, in arrival order (as S3's own delivery retries after a 429), so a
 * burst of objects loses none of them; the waiting list is bounded.
 */
export function createEmbeddedEventHandler(deps: EmbeddedEventHandlerDeps): EmbeddedEventHandler {
  const {
    acceptJobs,
    logger,
    inputBucket,
    outputBucket,
    outputPrefix,
    ownWrites,
    retryMs = 1000,
    maxDeferred = 10_000,
  } = deps;
  // Refused for a full queue, oldest first.
  const deferred: JobRequest[] = [];
  let timer: NodeJS.Timeout | undefined;
  let retrying = false;
  let closed = false;

  function onEmbeddedEvent(record: EmbeddedS3Event): void {
    if (!/^(s3:)?ObjectCreated:/.test(record.eventName)) return;
    const bucket = record.s3.bucket.name;
    const { key, eTag, size } = record.s3.object;
    if (bucket !== inputBucket || isOutput(bucket, key) || ownWrites.isOwn(bucket, key, eTag)) return;
    const etag = eTag === undefined || eTag === '' ? undefined : `"${eTag.replace(/"/g, '')}"`;
    const request: JobRequest = { bucket, key, etag, size };
    // Behind events already waiting: they keep their order.
    if (deferred.length > 0 || retrying) {
      defer(request);
      return;
    }
    void offer(request).then((accepted) => {
      if (!accepted) defer(request);
    });
  }

  /** Offers one event; false when the queue is full (the caller keeps it). */
  async function offer(request: JobRequest): Promise<boolean> {
    const { bucket, key } = request;
    try {
      const [job] = await acceptJobs([request], 's3-event');
      logger.info('embedded S3 event accepted', { bucket, key, jobId: job?.id, duplicate: job?.duplicate ?? false });
      return true;
    } catch (error) {
      const appError = toAppError(error);
      if (appError.code === 'queue_full' && !closed) return false;
      logger.warn('embedded S3 event not accepted', { bucket, key, code: appError.code, error: appError.message });
      return true;
    }
  }

  function defer(request: JobRequest): void {
    if (closed) {
      logger.warn('embedded S3 event not accepted', {
        bucket: request.bucket,
        key: request.key,
        code: 'shutting_down',
      });
      return;
    }
    if (deferred.length >= maxDeferred) {
      logger.error('embedded S3 event dropped: too many events wait for room in the queue', {
        bucket: request.bucket,
        key: request.key,
        waiting: deferred.length,
      });
      return;
    }
    deferred.push(request);
    logger.warn('embedded S3 event deferred: the job queue is full; it is offered again shortly', {
      bucket: request.bucket,
      key: request.key,
      waiting: deferred.length,
      retryMs,
    });
    schedule();
  }

  function schedule(): void {
    if (timer !== undefined || retrying || closed || deferred.length === 0) return;
    timer = setTimeout(() => void retry(), retryMs);
    timer.unref();
  }

  async function retry(): Promise<void> {
    timer = undefined;
    retrying = true;
    try {
      while (deferred.length > 0 && !closed) {
        if (!(await offer(deferred[0]!))) break;
        deferred.shift();
      }
    } finally {
      retrying = false;
      schedule();
    }
  }

  return Object.assign(onEmbeddedEvent, {
    close(): void {
      closed = true;
      clearTimeout(timer);
      if (deferred.length > 0) {
        logger.warn(
          'embedded S3 events still waiting at shutdown are not accepted; trigger them again after the restart',
          { keys: deferred.map((request) => request.key) },
        );
      }
      deferred.length = 0;
    },
  });

  function isOutput(bucket: string, key: string): boolean {
    if (bucket !== outputBucket) return false;
    return outputPrefix === '' ? OUTPUT_NAME.test(key) : key.startsWith(outputPrefix);
  }
}
