import type { Config } from '../config/config.ts';

/**
 * `S3_SSE` and `S3_SSE_KMS_KEY_ID`: how objects the service writes are encrypted at rest; undefined: the bucket's
 * default.
 */
export type S3Encryption = Config['s3']['sse'];

/** The request parameters that ask S3 for server-side encryption (PutObject, CreateMultipartUpload). */
export function encryptionParams(sse: S3Encryption): {
  ServerSideEncryption?: 'AES256' | 'aws:kms';
  SSEKMSKeyId?: string;
} {
  if (sse === undefined) return {};
  return { ServerSideEncryption: sse.algorithm, ...(sse.kmsKeyId === undefined ? {} : { SSEKMSKeyId: sse.kmsKeyId }) };
}
