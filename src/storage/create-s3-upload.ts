import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, UploadPartCommand,
  type CompletedPart, type S3Client,
} from '@aws-sdk/client-s3';
import { Writable } from 'node:stream';
import { AppError } from '../errors.ts';
import { translateS3Error } from './translate-s3-error.ts';

export interface S3UploadOptions {
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  /** Bytes per part (`S3_PART_SIZE`, at least 5 MiB). A body under one part is sent with a single PutObject. */
  readonly partSize: number;
  /** Part buffers (`S3_QUEUE_SIZE`): parts uploaded at once, the one being filled included. Memory held: at most queueSize × partSize, reused. */
  readonly queueSize: number;
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
   * Write the object's bytes here and end it. Destroying it (with an error, as
   * `stream.pipeline` does on failure) cancels the upload: the parts in flight
   * finish, the multipart upload is aborted, and only then `done` rejects.
   */
  readonly stream: Writable;
  /**
   * Settles once the upload is over: fulfilled when the object exists, rejected
   * (translated) once any multipart upload it started has been aborted.
   * Always await it, also after a failure.
   */
  readonly done: Promise<S3UploadResult>;
}

/** First buffer of an upload: most outputs (rejects, small files) never need a whole part. */
const FIRST_BUFFER_BYTES = 64 * 1024;
/** Past this the first buffer grows to a whole part at once: few copies, little garbage for a big body. */
const GROWN_BUFFER_BYTES = 1024 * 1024;
/** Longest wait for aborting a failed multipart upload, ms. */
const ABORT_TIMEOUT_MS = 30_000;

/**
 * Streams an object of unknown length to S3: one PutObject when the body fits
 * in a part, else a multipart upload with up to `queueSize` parts in flight.
 *
 * Part buffers come from a fixed set of at most `queueSize` that are
 * reused: bytes are copied once, into the part being filled, and no buffer is
 * left for the garbage collector. (lib-storage's `Upload` allocates a new part
 * with `Buffer.concat` for every part; those outlive V8's young generation and
 * pile up to its 64 MB external-memory slack before they are collected, which
 * kept a 1 GiB job and a 1 GiB upload well above their memory budgets.)
 */
export function createS3Upload(client: S3Client, options: S3UploadOptions): S3Upload {
  const writer = new MultipartWriter(client, options);
  return { stream: writer, done: writer.done };
}

class MultipartWriter extends Writable {
  readonly done: Promise<S3UploadResult>;
  readonly #client: S3Client;
  readonly #options: S3UploadOptions;
  readonly #where: string;
  #resolve!: (result: S3UploadResult) => void;
  #reject!: (error: AppError) => void;
  #settled = false;
  /** Whole-part buffers not in use. */
  readonly #spare: Buffer[] = [];
  /** Part buffers allocated so far (at most `queueSize`). */
  #allocated = 0;
  /** The part being filled, and how far. */
  #current: Buffer | undefined;
  #filled = 0;
  #nextPart = 1;
  #size = 0;
  /** Started with the first whole part. */
  #uploadId: Promise<string> | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #parts: CompletedPart[] = [];
  /** The first S3 failure. */
  #failure: unknown;

  constructor(client: S3Client, options: S3UploadOptions) {
    super({ highWaterMark: 64 * 1024 });
    this.#client = client;
    this.#options = options;
    this.#where = `writing s3://${options.bucket}/${options.key}`;
    this.done = new Promise<S3UploadResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Failures are reported through `done` (always awaited); a stream destroyed by its
    // writer, outside any pipeline, must not also crash the process with an unheard 'error'.
    this.done.catch(() => undefined);
    this.on('error', () => undefined);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#append(chunk).then(() => callback(), (error: unknown) => callback(this.#translate(error)));
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#finish().then(
      (result) => {
        this.#settle(() => this.#resolve(result));
        callback();
      },
      async (error: unknown) => {
        const translated = this.#translate(error);
        await this.#abandon();
        this.#settle(() => this.#reject(translated));
        callback(translated);
      },
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#settled) {
      callback(error);
      return;
    }
    const reason = this.#translate(error ?? this.#failure ?? this.#stopped());
    void this.#abandon().then(() => {
      this.#settle(() => this.#reject(reason));
      callback(error);
    });
  }

  async #append(chunk: Buffer): Promise<void> {
    const { partSize } = this.#options;
    let offset = 0;
    while (offset < chunk.length) {
      this.#checkOpen();
      // Every buffer is in flight: the writer waits (backpressure) until a part is stored.
      while (this.#current === undefined && this.#spare.length === 0 && this.#allocated >= this.#options.queueSize) {
        this.#checkOpen();
        if (this.#inFlight.size === 0) throw new AppError('internal', `No part buffer is free for s3://${this.#options.bucket}/${this.#options.key} and none is in flight.`);
        await Promise.race(this.#inFlight);
      }
      this.#checkOpen();
      const buffer = this.#room(chunk.length - offset);
      const copied = chunk.copy(buffer, this.#filled, offset, offset + Math.min(buffer.length - this.#filled, chunk.length - offset));
      this.#filled += copied;
      this.#size += copied;
      offset += copied;
      if (this.#filled === partSize) await this.#sendPart();
    }
  }

  /** The part buffer, with room for `wanted` bytes if it can grow that far. The first grows from 64 KiB (doubling to 1 MiB, then a whole part); the others are whole parts. */
  #room(wanted: number): Buffer {
    const { partSize } = this.#options;
    const current = this.#current;
    if (current === undefined) {
      const spare = this.#spare.pop();
      if (spare === undefined) this.#allocated += 1;
      this.#current = spare ?? Buffer.allocUnsafe(this.#nextPart === 1 ? Math.min(partSize, Math.max(FIRST_BUFFER_BYTES, wanted)) : partSize);
      this.#filled = 0;
    } else if (current.length < partSize && current.length - this.#filled < wanted) {
      const grown = Buffer.allocUnsafe(current.length >= GROWN_BUFFER_BYTES ? partSize : Math.min(partSize, Math.max(current.length * 2, this.#filled + wanted)));
      current.copy(grown, 0, 0, this.#filled);
      this.#current = grown;
    }
    return this.#current!;
  }

  /** Sends the part being filled. No wait for room: its buffer is one of at most `queueSize`, so fewer than that are in flight. */
  async #sendPart(): Promise<void> {
    const buffer = this.#current!;
    const body = buffer.subarray(0, this.#filled);
    const partNumber = this.#nextPart++;
    this.#current = undefined;
    this.#filled = 0;
    this.#checkOpen();
    const { bucket, key, contentType } = this.#options;
    this.#uploadId ??= this.#client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType })).then(({ UploadId }) => {
      if (UploadId === undefined) throw new Error('CreateMultipartUpload returned no UploadId.');
      return UploadId;
    });
    const uploadId = await this.#uploadId;
    this.#checkOpen();
    const sending: Promise<void> = this.#client
      .send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: body.length }))
      .then(
        (output) => {
          if (!output.ETag) throw new Error(`UploadPart ${partNumber} returned no ETag.`);
          const { ETag, ChecksumCRC32, ChecksumCRC32C, ChecksumCRC64NVME, ChecksumSHA1, ChecksumSHA256 } = output;
          this.#parts.push({ PartNumber: partNumber, ETag, ChecksumCRC32, ChecksumCRC32C, ChecksumCRC64NVME, ChecksumSHA1, ChecksumSHA256 });
          if (buffer.length === this.#options.partSize) this.#spare.push(buffer);
        },
      )
      .catch((error: unknown) => {
        this.#failure ??= error;
        // Whoever writes must stop: the upload cannot complete.
        this.destroy(this.#translate(error));
      })
      .finally(() => this.#inFlight.delete(sending));
    this.#inFlight.add(sending);
  }

  async #finish(): Promise<S3UploadResult> {
    const { bucket, key, contentType } = this.#options;
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#uploadId === undefined) {
      const body = this.#current?.subarray(0, this.#filled) ?? Buffer.alloc(0);
      const output = await this.#client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length, ContentType: contentType }));
      this.#current = undefined;
      return { bucket, key, etag: output.ETag, versionId: output.VersionId, size: this.#size };
    }
    if (this.#filled > 0) await this.#sendPart();
    await this.#settleInFlight();
    if (this.#failure !== undefined) throw this.#failure;
    const parts = [...this.#parts].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    const output = await this.#client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: await this.#uploadId, MultipartUpload: { Parts: parts } }));
    this.#uploadId = undefined; // complete: nothing to abort any more
    return { bucket, key, etag: output.ETag, versionId: output.VersionId, size: this.#size };
  }

  /** Lets the parts in flight finish, then aborts the multipart upload (if one was started); never rejects. */
  async #abandon(): Promise<void> {
    this.#spare.length = 0;
    this.#current = undefined;
    await this.#settleInFlight();
    const started = this.#uploadId;
    this.#uploadId = undefined;
    if (started === undefined) return;
    const uploadId = await started.catch(() => undefined);
    if (uploadId === undefined) return;
    const { bucket, key } = this.#options;
    await this.#client
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }), { abortSignal: AbortSignal.timeout(ABORT_TIMEOUT_MS) })
      .catch(() => undefined);
  }

  /** Throws once the upload failed or was destroyed: nothing more may be sent (after an abort, a new part would start a new upload). */
  #checkOpen(): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.destroyed) throw this.#stopped();
  }

  #stopped(): AppError {
    return new AppError('cancelled', `The upload to s3://${this.#options.bucket}/${this.#options.key} was stopped before it ended.`);
  }

  async #settleInFlight(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  #settle(settle: () => void): void {
    if (this.#settled) return;
    this.#settled = true;
    settle();
  }

  #translate(error: unknown): AppError {
    return translateS3Error(error, this.#where);
  }
}
