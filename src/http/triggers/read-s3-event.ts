import type { JobRequest } from '../../jobs/accept-jobs.ts';
import { parseInput } from '../parse-input.ts';
import { s3EventTrigger } from './s3-event-trigger.ts';
import { s3TestEvent } from './s3-test-event.ts';

/**
 * The objects an S3 event notification asks to process: one per `ObjectCreated:*`
 * record, none for `s3:TestEvent`. A body that is neither is `validation_failed`.
 */
export function readS3Event(body: unknown, what: string): JobRequest[] {
  if (s3TestEvent.safeParse(body).success) return [];
  const event = parseInput(s3EventTrigger, body, what);
  return event.Records.flatMap((record) =>
    record === null
      ? []
      : [
          {
            bucket: record.bucket.name,
            key: record.object.key,
            size: record.object.size,
            etag: record.object.eTag,
            versionId: record.object.versionId,
          },
        ],
  );
}
