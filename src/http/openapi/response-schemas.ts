import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../../errors.ts';
import { JOB_STATUSES, JOB_TRIGGERS } from '../../jobs/job.ts';

/**
 * The shapes the API answers with, as zod schemas, for the OpenAPI document
 * (the requests are described by the schemas that validate them). They follow
 * the types in `src/jobs/job.ts`; a spec checks real answers against them.
 */

const isoTime = z.iso.datetime({ offset: true });
const count = z.int().min(0);

export const errorBody = z
  .strictObject({
    error: z.strictObject({
      code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
      message: z.string().min(1).meta({ description: 'A human sentence.' }),
      details: z
        .array(z.unknown())
        .optional()
        .meta({ description: 'Validation problems, each with `path` and `message`.' }),
    }),
  })
  .meta({ id: 'Error' });

export const job = z
  .strictObject({
    id: z.uuid(),
    status: z.enum(JOB_STATUSES),
    source: z.strictObject({
      bucket: z.string(),
      key: z.string(),
      versionId: z.string().nullable(),
      etag: z.string().nullable(),
      size: count.nullable(),
    }),
    trigger: z.enum(JOB_TRIGGERS),
    pipeline: z.string(),
    attempts: count,
    createdAt: isoTime,
    startedAt: isoTime.nullable(),
    finishedAt: isoTime.nullable(),
    progress: z.strictObject({ bytesRead: count, totalBytes: count.nullable(), rows: count, rejected: count }),
    output: z
      .strictObject({ bucket: z.string(), rows: z.string(), rejects: z.string(), manifest: z.string() })
      .nullable()
      .meta({
        description:
          'Where the outputs are; null until the job succeeds. Keys are `OUTPUT_PREFIX + source bucket + "/" + source key + "/"` and the name, in OUTPUT_BUCKET.',
        examples: [
          {
            bucket: 'ingest',
            rows: 'processed/ingest/iot/2024-02-12.csv/rows.ndjson',
            rejects: 'processed/ingest/iot/2024-02-12.csv/rejects.ndjson',
            manifest: 'processed/ingest/iot/2024-02-12.csv/manifest.json',
          },
        ],
      }),
    error: z
      .strictObject({
        code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
        message: z.string(),
        retryable: z.boolean(),
        line: z.int().min(1).optional().meta({
          description:
            'The physical line of the CSV the error is about (malformed CSV, a bad header, the reject that passed maxRejected).',
        }),
      })
      .nullable()
      .meta({ description: 'Why the job failed; null unless it failed.' }),
    runner: z.string().nullable().meta({
      description: '`INSTANCE_ID` of the instance running the job, or that ran it last; null before it first starts.',
    }),
    duplicate: z.boolean().optional().meta({
      description:
        'True when a trigger named an object version that already has a queued, running or succeeded job: that job is returned and nothing starts.',
    }),
  })
  .meta({ id: 'Job' });

export const jobList = z.strictObject({
  jobs: z.array(job),
  next: z.string().nullable().meta({ description: 'Cursor of the next page, or null on the last.' }),
});

export const triggerAnswer = z.strictObject({
  jobs: z.array(job),
  subscription: z
    .strictObject({ topicArn: z.string(), status: z.enum(['confirmed', 'unsubscribed']) })
    .optional()
    .meta({ description: 'SNS subscription and unsubscribe confirmations only.' }),
});

export const uploadAnswer = z.strictObject({
  upload: z.strictObject({ bucket: z.string(), key: z.string(), size: count, etag: z.string() }),
  job: job.nullable().meta({ description: 'The job queued for the file; null when `process` was false.' }),
});

export const health = z.strictObject({ status: z.literal('ok') });

export const readiness = z.strictObject({
  status: z.enum(['ready', 'not_ready']),
  problems: z.array(z.string()).optional(),
});
