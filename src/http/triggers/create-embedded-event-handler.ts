import { toAppError } from '../../errors.ts';
import type { AcceptJobs } from '../../jobs/accept-jobs.ts';
import type { Logger } from '../../logging/create-logger.ts';
import type { EmbeddedS3Event } from '../../storage/embedded-s3.ts';
import type { OwnWrites } from '../uploads/create-own-writes.ts';

export interface EmbeddedEventHandlerDeps {
  readonly acceptJobs: AcceptJobs;
  readonly logger: Logger;
  readonly inputBucket: string;
  readonly outputBucket: string;
  readonly outputPrefix: string;
  readonly ownWrites: OwnWrites;
}

/** The names of a job's outputs: with an empty OUTPUT_PREFIX they are how outputs are told apart. */
const OUTPUT_NAME = /\/(rows\.ndjson|rejects\.ndjson|manifest\.json)$/;

/**
 * In embedded mode, an object put into the input bucket by any S3 client starts
 * a job, as an S3 event notification would (trigger `s3-event`). Skipped: other
 * buckets, removals, job outputs (keys under OUTPUT_PREFIX), and the objects the
 * upload endpoint writes itself. The embedded server's keys are not URL-encoded.
 */
export function createEmbeddedEventHandler(deps: EmbeddedEventHandlerDeps): (record: EmbeddedS3Event) => void {
  const { acceptJobs, logger, inputBucket, outputBucket, outputPrefix, ownWrites } = deps;
  return function onEmbeddedEvent(record) {
    if (!/^(s3:)?ObjectCreated:/.test(record.eventName)) return;
    const bucket = record.s3.bucket.name;
    const { key, eTag, size } = record.s3.object;
    if (bucket !== inputBucket || isOutput(bucket, key) || ownWrites.isOwn(bucket, key, eTag)) return;
    const etag = eTag === undefined || eTag === '' ? undefined : `"${eTag.replace(/"/g, '')}"`;
    acceptJobs([{ bucket, key, etag, size }], 's3-event').then(
      ([job]) => logger.info('embedded S3 event accepted', { bucket, key, jobId: job?.id, duplicate: job?.duplicate ?? false }),
      (error: unknown) => {
        const appError = toAppError(error);
        logger.warn('embedded S3 event not accepted', { bucket, key, code: appError.code, error: appError.message });
      },
    );
  };

  function isOutput(bucket: string, key: string): boolean {
    if (bucket !== outputBucket) return false;
    return outputPrefix === '' ? OUTPUT_NAME.test(key) : key.startsWith(outputPrefix);
  }
}
