import type { z } from 'zod';
import { AppError } from '../../errors.ts';
import type { JobRequest } from '../../jobs/accept-jobs.ts';
import type { JobTrigger } from '../../jobs/job.ts';
import { parseInput } from '../parse-input.ts';
import { eventBridgeTrigger } from './eventbridge-trigger.ts';
import { objectTrigger } from './object-trigger.ts';
import { readS3Event } from './read-s3-event.ts';
import { restTrigger } from './rest-trigger.ts';
import { s3EventTrigger } from './s3-event-trigger.ts';
import { s3TestEvent } from './s3-test-event.ts';
import { snsEnvelope, type SnsEnvelope } from './sns-envelope.ts';

export type TriggerRead =
  /** Objects to process (none: an S3 test event, or only skipped records). */
  | { readonly kind: 'jobs'; readonly trigger: JobTrigger; readonly requests: readonly JobRequest[] }
  /** An SNS delivery, still to be verified. */
  | { readonly kind: 'sns'; readonly envelope: SnsEnvelope };

export interface ReadTriggerOptions {
  /** The bucket of shapes that name none (INPUT_BUCKET). */
  readonly inputBucket: string;
  /** The `x-amz-sns-message-type` header, when sent: then only an SNS envelope is read. */
  readonly snsMessageType: string | undefined;
}

/**
 * Detects a `POST /v1/trigger` body by schema, in the contract's order: REST,
 * `{object: {key}}`, S3 event notification, EventBridge, SNS. When none matches,
 * the error is the one of the shape the body looks most like, with zod's details.
 */
export function readTrigger(body: unknown, options: ReadTriggerOptions): TriggerRead {
  const { inputBucket, snsMessageType } = options;
  if (snsMessageType !== undefined) return { kind: 'sns', envelope: readEnvelope(body, snsMessageType) };

  const rest = restTrigger.safeParse(body);
  if (rest.success) return jobs('rest', [{ ...rest.data, bucket: rest.data.bucket ?? inputBucket }]);
  const object = objectTrigger.safeParse(body);
  if (object.success) return jobs('rest', [{ bucket: inputBucket, key: object.data.object.key }]);
  if (s3TestEvent.safeParse(body).success || s3EventTrigger.safeParse(body).success)
    return jobs('s3-event', readS3Event(body, 'S3 event'));
  const eventBridge = eventBridgeTrigger.safeParse(body);
  if (eventBridge.success) {
    const detail = eventBridge.data;
    return jobs(
      'eventbridge',
      detail === null
        ? []
        : [
            {
              bucket: detail.bucket.name,
              key: detail.object.key,
              size: detail.object.size,
              etag: detail.object.etag,
              versionId: detail.object['version-id'],
            },
          ],
    );
  }
  const sns = snsEnvelope.safeParse(body);
  if (sns.success) return { kind: 'sns', envelope: sns.data };
  throw explain(body);
}

function jobs(trigger: JobTrigger, requests: readonly JobRequest[]): TriggerRead {
  return { kind: 'jobs', trigger, requests };
}

/** With the SNS header the body must be a signed SNS envelope of that type; anything else is refused. */
function readEnvelope(body: unknown, messageType?: string): SnsEnvelope {
  const parsed = snsEnvelope.safeParse(body);
  if (!parsed.success) {
    const details = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
    throw new AppError(
      'forbidden',
      'The request is not a signed SNS message (raw message delivery is not accepted: its messages carry no signature).',
      { details },
    );
  }
  if (messageType !== undefined && parsed.data.Type !== messageType) {
    throw new AppError(
      'forbidden',
      `The x-amz-sns-message-type header (${messageType}) does not match the message's Type (${parsed.data.Type}).`,
    );
  }
  return parsed.data;
}

/** The error of the shape the body looks most like; REST when it looks like none. */
function explain(body: unknown): AppError {
  const fields = body !== null && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : [];
  const has = (...names: string[]) => names.some((name) => fields.includes(name));
  const read: () => unknown = has('Type', 'Signature', 'SigningCertURL', 'TopicArn')
    ? () => readEnvelope(body)
    : () => {
        const [schema, what] = shapeOf(has);
        return parseInput(schema, body, what);
      };
  try {
    read();
  } catch (error) {
    return error as AppError;
  }
  return new AppError('validation_failed', 'The trigger matches no accepted shape.');
}

function shapeOf(has: (...names: string[]) => boolean): [z.ZodType, string] {
  return has('object')
    ? [objectTrigger, 'object trigger']
    : has('Records', 'Event')
      ? [s3EventTrigger, 'S3 event']
      : has('source', 'detail-type', 'detail')
        ? [eventBridgeTrigger, 'EventBridge event']
        : [restTrigger, 'trigger'];
}
