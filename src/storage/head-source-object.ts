import { HeadBucketCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AppError } from '../errors.ts';
import { translateS3Error } from './translate-s3-error.ts';

/** What a HEAD request learnt of an object. */
export interface ObjectHead {
  readonly etag: string | null;
  readonly size: number | null;
  readonly versionId: string | null;
}

const HEAD_TIMEOUT_MS = 10_000;

/**
 * HEADs an object: undefined when its bucket exists and it does not. A HEAD
 * answer has no body, so S3 says 404 alike for a missing key and a missing
 * bucket; only then is the bucket asked after, to fail with `no_such_bucket`.
 * Refused access is `access_denied`; S3 unreachable, 5xx or throttling are
 * thrown retryable, as `translateS3Error` sorts them.
 */
export async function headSourceObject(
  client: S3Client,
  bucket: string,
  key: string,
  versionId: string | undefined,
): Promise<ObjectHead | undefined> {
  const where = `s3://${bucket}/${key}`;
  try {
    const head = await client.send(
      new HeadObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }),
      {
        abortSignal: AbortSignal.timeout(HEAD_TIMEOUT_MS),
      },
    );
    return { etag: head.ETag ?? null, size: head.ContentLength ?? null, versionId: head.VersionId ?? null };
  } catch (error) {
    const failure = translateS3Error(error, `looking up ${where}`);
    if (failure.code !== 'no_such_key') throw failure;
  }
  if (!(await bucketExists(client, bucket))) {
    throw new AppError('no_such_bucket', `The bucket "${bucket}" does not exist, so ${where} cannot be read.`);
  }
  return undefined;
}

async function bucketExists(client: S3Client, bucket: string): Promise<boolean> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: AbortSignal.timeout(HEAD_TIMEOUT_MS) });
    return true;
  } catch (error) {
    const failure = translateS3Error(error, `looking up the bucket ${bucket}`);
    if (failure.code === 'no_such_key' || failure.code === 'no_such_bucket') return false;
    throw failure;
  }
}
