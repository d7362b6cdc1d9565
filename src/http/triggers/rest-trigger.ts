import { z } from 'zod';
import { triggerFields } from './trigger-fields.ts';

/**
 * Shape 1, a REST call: `{"bucket"?, "key", "versionId"?, "pipeline"?, "force"?}`; `bucket` defaults to
 * INPUT_BUCKET; `force: true` asks to run an object again that already succeeded. Strict, so a typo is a 400.
 */
export const restTrigger = z.strictObject({
  bucket: triggerFields.bucket.optional(),
  key: triggerFields.key,
  versionId: triggerFields.versionId.optional(),
  pipeline: triggerFields.pipeline.optional(),
  force: z.boolean().optional(),
});
