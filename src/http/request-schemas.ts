import { z } from 'zod';
import { JOB_STATUSES, OUTPUT_NAMES } from '../jobs/job.ts';

/** `GET /v1/jobs` query. */
export const listJobsQuery = z.strictObject({
  status: z.enum(JOB_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: z.string().min(1).max(200).optional(),
});

export const jobIdParam = z.uuid({ message: 'expected a job id (a UUID)' });

export const outputNameParam = z.enum(OUTPUT_NAMES, { message: `expected one of ${OUTPUT_NAMES.join(', ')}` });

/** The `key` field of an upload: a key this service will write. */
export const uploadKey = z
  .string()
  .min(1, { message: 'the key must not be empty' })
  .refine((key) => !key.startsWith('/'), { message: 'the key must not start with /' })
  .refine((key) => !key.split('/').includes('..'), { message: 'the key must not have a .. segment' })
  .refine((key) => Buffer.byteLength(key, 'utf8') <= 1024, { message: 'the key must be at most 1024 UTF-8 bytes' })
  // eslint-disable-next-line no-control-regex
  .refine((key) => !/[\u0000-\u001f\u007f]/.test(key), { message: 'the key must not contain control characters' })
  .refine((key) => !/[\uD800-\uDFFF]/.test(key.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '')), { message: 'the key must be valid Unicode' });

/** The `process` field of an upload: whether to queue a job for the stored file. */
export const uploadProcess = z
  .enum(['true', 'false', '1', '0'], { message: 'expected true or false' })
  .transform((value) => value === 'true' || value === '1');
