import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectHead } from '../jobs/accept-jobs.ts';

/** HEADs an object: undefined when S3 says it does not exist; other failures are thrown as they come. */
export async function headSourceObject(client: S3Client, bucket: string, key: string, versionId: string | undefined): Promise<ObjectHead | undefined> {
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }), {
      abortSignal: AbortSignal.timeout(10_000),
    });
    return { etag: head.ETag ?? null, size: head.ContentLength ?? null, versionId: head.VersionId ?? null };
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const name = (error as { name?: string }).name;
    if (status === 404 || name === 'NotFound' || name === 'NoSuchKey') return undefined;
    throw error;
  }
}
