import { z } from 'zod';

/**
 * Field schemas shared by the trigger shapes. Keys are checked, never rewritten:
 * a key with leading or trailing spaces is a different object, so nothing is
 * trimmed. The key rules (length, control characters, segments, OUTPUT_PREFIX)
 * are not here: `acceptJobs` applies them to every shape alike, to the key as it
 * is stored (after an S3 event's URL decoding), as `invalid_key`.
 */
export const triggerFields = {
  /** An S3 bucket name (3-63 lowercase letters, digits, dots, hyphens). */
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
    message: 'expected an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)',
  }),
  /** An object key as given, not blank. */
  key: z
    .string({ message: 'the key is required and must be a string' })
    .refine((key) => key.trim() !== '', { message: 'the key must not be blank' }),
  versionId: z.string().min(1).max(1024),
  /** An ETag; S3 events send it without the quotes HEAD returns, so it is normalised to the quoted form. */
  etag: z
    .string()
    .transform((etag) => etag.replace(/"/g, ''))
    .pipe(z.string().min(1, { message: 'the ETag must not be empty' }).max(1024))
    .transform((etag) => `"${etag}"`),
  size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  pipeline: z.string().min(1).max(200),
} as const;
