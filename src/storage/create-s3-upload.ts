import { PutObjectCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable, Writable } from 'node:stream';
import { cancelledError } from '../errors.ts';
import { encryptionParams, type S3Encryption } from './encryption-params.ts';
import { translateS3Error } from './translate-s3-error.ts';

export interface S3UploadOptions {
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  /** Bytes per part (`S3_PART_SIZE`, at least 5 MiB). A body of at most one part is sent with a single PutObject. */
  readonly partSize: number;
  /** Parts uploaded at once (`S3_QUEUE_SIZE`). */
  readonly queueSize: number;
  /** `S3_SSE`, `S3_SSE_KMS_KEY_ID`; unset: the bucket's default encryption. */
  readonly sse?: S3Encryption;
}

export interface S3UploadResult {
  readonly bucket: string;
  readonly key: string;
  readonly etag: string | undefined;
  readonly versionId: string | undefined;
  /** Bytes stored. */
  readonly size: number;
}

export interface S3Upload {
  /**
   * Write the object's bytes here and end it; it finishes once the object is
   * stored. Destroying it (with an error, as `stream.pipeline` does on failure)
   * cancels the upload: its requests under way stop, the multipart upload is
   * aborted, and only then `done` rejects and the stream closes.
   */
  readonly stream: Writable;
  /**
   * Settles once the upload is over: fulfilled when the object exists, rejected
   * (translated) once any multipart upload it started has been aborted.
   * Always await it, also after a failure.
   */
  readonly done: Promise<S3UploadResult>;
}

/** Bytes passed on to lib-storage before a write waits for it to read them. */
const BODY_HIGH_WATER_MARK = 64 * 1024;

/**
 * Streams an object of unknown length to S3 with lib-storage's `Upload`: one
 * PutObject when the body fits in a part, else a multipart upload with up to
 * `queueSize` parts in flight, aborted on any failure (`leavePartsOnError: false`).
 *
 * The adapter exists for the failure path. `Upload.abort()` rejects `done()` at
 * once and sends AbortMultipartUpload later, in the background; instead, a
 * cancelled upload destroys the body lib-storage reads, which fails its uploaders,
 * and `Upload.done()` rejects only after the multipart upload was aborted.
 */
export function createS3Upload(client: S3Client, options: S3UploadOptions): S3Upload {
  const writer = new UploadWriter(client, options);
  return { stream: writer, done: writer.done };
}

class UploadWriter extends Writable {
  readonly done: Promise<S3UploadResult>;
  /** `s3://bucket/key`, for messages. */
  readonly #location: string;
  /** What lib-storage reads: fed by `_write`, ended by `_final`. */
  readonly #body: Readable;
  readonly #upload: Upload;
  /** The body was ended: lib-storage may have read it all, so destroying it no longer stops the upload. */
  #ended = false;
  /** The write waiting for lib-storage to read (backpressure). */
  #resume: (() => void) | undefined;
  #settled = false;
  /** Aborted as the writer is destroyed: stops this upload's PutObject and parts under way. */
  readonly #stop = new AbortController();
  /** Why the writer was destroyed: what `done` reports, whatever the abort that follows gives. */
  #reason: Error | undefined;
  #size = 0;

  constructor(client: S3Client, options: S3UploadOptions) {
    super({ highWaterMark: BODY_HIGH_WATER_MARK });
    const { bucket, key, contentType, partSize, queueSize, sse } = options;
    this.#location = `s3://${bucket}/${key}`;
    this.#body = new Readable({ highWaterMark: BODY_HIGH_WATER_MARK, read: () => this.#wake() });
    // Its errors are the ones this writer was destroyed with, reported through `done`.
    this.#body.on('error', () => undefined);
    const upload = (this.#upload = new Upload({
      client: this.#stoppable(client),
      params: { Bucket: bucket, Key: key, ContentType: contentType, Body: this.#body, ...encryptionParams(sse) },
      partSize,
      queueSize,
      leavePartsOnError: false,
    }));
    this.done = upload.done().then(
      (output): S3UploadResult => {
        this.#settled = true;
        return { bucket, key, etag: output.ETag, versionId: output.VersionId, size: this.#size };
      },
      (error: unknown) => {
        this.#settled = true;
        const translated = translateS3Error(this.#reason ?? error, `writing ${this.#location}`);
        // Whoever writes must stop: the upload cannot complete (lib-storage stopped reading).
        this.destroy(translated);
        throw translated;
      },
    );
    // Failures are reported through `done` (always awaited); a stream destroyed by its
    // writer, outside any pipeline, must not also crash the process with an unheard 'error'.
    this.done.catch(() => undefined);
    this.on('error', () => undefined);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#size += chunk.length;
    if (this.#body.push(chunk)) callback();
    else this.#resume = () => callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#ended = true;
    this.#body.push(null);
    this.done.then(
      () => callback(),
      (error: Error) => callback(error),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#resume = undefined;
    if (this.#settled) {
      callback(error);
      return;
    }
    this.#reason = error ?? cancelledError(`uploading to ${this.#location}`);
    this.#stop.abort(this.#reason);
    // lib-storage's reader fails with the reason; its uploaders stop, and it aborts the multipart upload.
    this.#body.destroy(this.#reason);
    // Read to its end already: the parts in flight stop, then lib-storage aborts the multipart upload
    // instead of completing it (in the background). A PutObject under way stops, unless S3 has it already.
    if (this.#ended) void this.#upload.abort();
    this.done.then(
      () => callback(error),
      (failure: Error) => callback(error ?? failure),
    );
  }

  /**
   * The client lib-storage sends through: its PutObject and UploadPart requests stop when the writer
   * is destroyed (lib-storage sends them with no abort signal of its own). Requests that create,
   * complete or abort a multipart upload are left to finish: stopping them could leave a multipart
   * upload that nobody aborts.
   */
  #stoppable(client: S3Client): S3Client {
    const send = (command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown> => {
      const stoppable = command instanceof PutObjectCommand || command instanceof UploadPartCommand;
      return (client.send as (command: unknown, options?: object) => Promise<unknown>)(
        command,
        stoppable ? { ...options, abortSignal: this.#stop.signal } : options,
      );
    };
    return Object.create(client, { send: { value: send } }) as S3Client;
  }

  #wake(): void {
    const resume = this.#resume;
    this.#resume = undefined;
    resume?.();
  }
}
