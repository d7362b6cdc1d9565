import { z } from 'zod';
import { triggerFields } from './trigger-fields.ts';

const detail = z.object({
  bucket: z.object({ name: triggerFields.bucket }),
  object: z.object({
    key: triggerFields.key,
    size: triggerFields.size.optional(),
    etag: triggerFields.etag.optional(),
    'version-id': triggerFields.versionId.optional(),
    sequencer: z.string().optional(),
  }),
});

/**
 * Shape 4, an EventBridge event from S3. Its `detail` when it is `Object Created`,
 * else null (another S3 event type: skipped). Keys are not URL-encoded here.
 */
export const eventBridgeTrigger = z
  .object({ source: z.literal('aws.s3'), 'detail-type': z.string(), detail: z.unknown() })
  .transform((event, ctx) => {
    if (event['detail-type'] !== 'Object Created') return null;
    const parsed = detail.safeParse(event.detail);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues)
      ctx.addIssue({ code: 'custom', message: issue.message, path: ['detail', ...issue.path] });
    return z.NEVER;
  });
