import { z } from 'zod';

/** Shape 5, an SNS HTTP delivery (JSON sent as text/plain). Only what is signed and what routes it is read. */
export const snsEnvelope = z.object({
  Type: z.enum(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']),
  MessageId: z.string().min(1).max(256),
  TopicArn: z.string().min(1).max(1024),
  Subject: z.string().max(1024).nullish(),
  Message: z.string(),
  Timestamp: z.string().min(1).max(64),
  SignatureVersion: z.enum(['1', '2'], { message: 'expected SignatureVersion "1" or "2"' }),
  Signature: z.string().min(1).max(4096),
  SigningCertURL: z.string().min(1).max(2048),
  SubscribeURL: z.string().min(1).max(4096).optional(),
  Token: z.string().min(1).max(4096).optional(),
});

export type SnsEnvelope = z.infer<typeof snsEnvelope>;
