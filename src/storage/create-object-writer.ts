import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Writable } from 'node:stream';
import { createS3Upload } from './create-s3-upload.ts';
import type { S3Encryption } from './encryption-params.ts';
import { translateS3Error } from './translate-s3-error.ts';

export interface ObjectWriterConfig {
  readonly bucket: string;
  /** `S3_PART_SIZE` and `S3_QUEUE_SIZE`: memory in use is at most partSize × queueSize per object. */
  readonly partSize: number;
  readonly queueSize: number;
  /** `S3_SSE`: how stored objects are encrypted; unset: the bucket's default. */
  readonly sse?: S3Encryption;
}

/** An object being written: write its bytes to `stream` and end it; `done` settles once S3 has it (or not). */
export interface ObjectWrite {
  readonly stream: Writable;
  /** Rejects with an `AppError` (translated), after any multipart upload it began was aborted. */
  readonly done: Promise<{ readonly etag: string; readonly versionId: string | undefined; readonly size: number }>;
}

/** Writes and removes the objects of one bucket, with every S3 error translated to an `AppError`. */
export interface ObjectWriter {
  open(key: string, contentType: string): ObjectWrite;
  remove(key: string): Promise<void>;
}

/**
 * The one way the HTTP side writes to S3 (uploads): lib-storage through
 * `createS3Upload`, so it never holds an S3 client of its own.
 */
export function createObjectWriter(client: S3Client, config: ObjectWriterConfig): ObjectWriter {
  const { bucket, partSize, queueSize, sse } = config;
  return {
    open(key, contentType) {
      const upload = createS3Upload(client, { bucket, key, contentType, partSize, queueSize, sse });
      const done = upload.done.then(
        (result) => ({ etag: result.etag ?? '', versionId: result.versionId, size: result.size }),
        (error: unknown) => {
          throw translateS3Error(error, `storing s3://${bucket}/${key}`);
        },
      );
      return { stream: upload.stream, done };
    },
    async remove(key) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      } catch (error) {
        throw translateS3Error(error, `removing s3://${bucket}/${key}`);
      }
    },
  };
}
