import { z } from 'zod';

/** The message S3 sends when a notification configuration is saved; answered `200 {"jobs": []}`. */
export const s3TestEvent = z.object({ Event: z.literal('s3:TestEvent') });
