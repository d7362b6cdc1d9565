import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PassThrough } from 'node:stream';
import { translateS3Error } from './translate-s3-error.ts';

export interface S3UploadOptions {
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  /** Bytes per part (`S3_PART_SIZE`, at least 5 MiB). A body under one part is sent with a single PutObject. */
  readonly partSize: number;
  /** Parts uploaded at once (`S3_QUEUE_SIZE`). Memory held: about (queueSize + 1) × partSize. */
  readonly queueSize: number;
}

export interface S3UploadResult {
  readonly bucket: string;
  readonly key: string;
  readonly etag: string | undefined;
}

export interface S3Upload {
  /**
   * Write the object's bytes here and end it. Destroying it (with an error, as
   * `stream.pipeline` does on failure) cancels the upload: the multipart upload
   * is aborted before `done` rejects.
   */
  readonly stream: PassThrough;
  /**
   * Settles once the upload is over: fulfilled when the object exists, rejected
   * (translated) once any multipart upload it started has been aborted.
   * Always await it, also after a failure.
   */
  readonly done: Promise<S3UploadResult>;
}

/**
 * Streams an object of unknown length to S3 with lib-storage's `Upload`.
 *
 * Cancelling goes through the stream, not `Upload.abort()`: `abort()` makes
 * `done()` reject at once while parts are still in flight and the multipart
 * upload is not yet aborted; a destroyed body instead makes lib-storage finish
 * the parts in flight, abort the multipart upload, and only then reject.
 */
export function createS3Upload(client: S3Client, options: S3UploadOptions): S3Upload {
  const { bucket, key, contentType, partSize, queueSize } = options;
  const stream = new PassThrough({ highWaterMark: 64 * 1024 });
  const upload = new Upload({
    client,
    params: { Bucket: bucket, Key: key, Body: stream, ContentType: contentType },
    partSize,
    queueSize,
    leavePartsOnError: false,
  });
  const done = upload.done().then(
    (output) => ({ bucket, key, etag: output.ETag }),
    (error: unknown) => {
      const translated = translateS3Error(stream.errored ?? error, `writing s3://${bucket}/${key}`);
      // Whoever writes must stop: nothing reads the stream any more.
      stream.destroy(translated);
      throw translated;
    },
  );
  return { stream, done };
}
