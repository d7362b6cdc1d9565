import { AppError } from '../errors.ts';

/**
 * Throws `bucket_not_allowed` when `bucket` is not in ALLOWED_BUCKETS. Checked
 * before any S3 call, so a trigger cannot make the service read, or even HEAD,
 * a bucket its credentials happen to reach.
 */
export function checkBucketAllowed(bucket: string, allowed: readonly string[]): void {
  if (allowed.includes(bucket)) return;
  throw new AppError(
    'bucket_not_allowed',
    `The bucket ${JSON.stringify(bucket)} is not in ALLOWED_BUCKETS (${allowed.join(', ')}); triggers and uploads may name no other bucket.`,
  );
}
