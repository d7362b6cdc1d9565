import { z } from 'zod';
import { triggerFields } from './trigger-fields.ts';

/** Shape 2, the original service's minimal form: `{"object": {"key"}}` in the default bucket. */
export const objectTrigger = z.strictObject({
  object: z.strictObject(
    { key: triggerFields.key },
    { message: 'expected an object with a key: {"object": {"key": "..."}}' },
  ),
});
