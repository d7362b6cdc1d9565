import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { AppError } from '../errors.ts';
import { translateS3Error } from './translate-s3-error.ts';

/** An output object opened for streaming back to a client. */
export interface OpenedOutput {
  readonly body: Readable;
  readonly contentType: string;
  readonly contentLength: number | undefined;
}

/** Opens an output object for streaming to a client; a missing object is `not_found`. */
export async function openOutputObject(
  client: S3Client,
  bucket: string,
  key: string,
  contentType: string,
): Promise<OpenedOutput> {
  try {
    const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!(response.Body instanceof Readable)) throw new AppError('internal', 'S3 returned no readable body.');
    return { body: response.Body, contentType, contentLength: response.ContentLength };
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404)
      throw new AppError('not_found', `The output s3://${bucket}/${key} no longer exists.`, { cause: error });
    throw translateS3Error(error, `reading s3://${bucket}/${key}`);
  }
}
