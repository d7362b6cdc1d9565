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

/**
 * The `key` field of an upload. The key rules (length, control characters,
 * segments, OUTPUT_PREFIX) are checked on the key as stored, with the default
 * key's: `invalid_key`.
 */
export const uploadKey = z.string();

/** The `process` field of an upload: whether to queue a job for the stored file. */
export const uploadProcess = z
  .enum(['true', 'false', '1', '0'], { message: 'expected true or false' })
  .transform((value) => value === 'true' || value === '1');
