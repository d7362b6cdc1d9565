import { z } from 'zod';
import { decodeS3EventKey } from './decode-s3-event-key.ts';
import { triggerFields } from './trigger-fields.ts';

const OBJECT_CREATED = /^(s3:)?ObjectCreated:/;

/** A key as S3 events carry it: form-URL-encoded. */
const encodedKey = z
  .string({ message: 'the key is required and must be a string' })
  .transform((encoded, ctx) => {
    const key = decodeS3EventKey(encoded);
    if (key === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'the key is not valid form-URL encoding (a malformed percent sequence)',
      });
      return z.NEVER;
    }
    return key;
  })
  .pipe(triggerFields.key);

const s3Entity = z.object({
  bucket: z.object({ name: triggerFields.bucket }),
  object: z.object({
    key: encodedKey,
    size: triggerFields.size.optional(),
    eTag: triggerFields.etag.optional(),
    versionId: triggerFields.versionId.optional(),
    sequencer: z.string().optional(),
  }),
});

/** One record: its `s3` part when it is an `ObjectCreated:*` record, else null (skipped, whatever its body). */
const record = z.object({ eventName: z.string(), s3: z.unknown() }).transform((value, ctx) => {
  if (!OBJECT_CREATED.test(value.eventName)) return null;
  const parsed = s3Entity.safeParse(value.s3);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues)
    ctx.addIssue({ code: 'custom', message: issue.message, path: ['s3', ...issue.path] });
  return z.NEVER;
});

/**
 * Shape 3, an S3 event notification: `{"Records": [...]}`. Real events carry more
 * fields than these; they are ignored.
 */
export const s3EventTrigger = z.object({ Records: z.array(record).min(1).max(1000) });
