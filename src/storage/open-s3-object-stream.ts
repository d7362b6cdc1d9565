import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, cancelledError } from '../errors.ts';
import { translateS3Error } from './translate-s3-error.ts';

export interface S3ObjectRef {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string | null;
}

export interface S3ObjectStreamOptions {
  /** Aborting it destroys the stream (and any request under way) with `cancelled`. */
  readonly signal?: AbortSignal;
  /** Broken reads in a row (no byte read between them) tolerated before the stream fails as retryable. Default 3. */
  readonly maxResumes?: number;
  /** Wait before the first re-read, doubled for each further one in a row, ms. Default 200. */
  readonly resumeDelayMs?: number;
  /**
   * Longest silence of a body that is being read (not held back by backpressure)
   * before it counts as broken and the read resumes, ms. Default 30 000.
   */
  readonly idleTimeoutMs?: number;
  /** Called with the size of every chunk read (progress). */
  readonly onBytes?: (bytes: number) => void;
  /** Bytes buffered ahead of the consumer. Default 64 KiB. */
  readonly highWaterMark?: number;
}

export interface S3ObjectStream {
  /** The object's bytes, exactly once each, across any re-reads. */
  readonly stream: Readable;
  readonly etag: string | undefined;
  readonly size: number | undefined;
  readonly versionId: string | undefined;
  readonly contentEncoding: string | undefined;
}

/**
 * Opens an S3 object as a byte stream that survives the network. The first
 * `GetObject` is awaited, so a missing key or bucket rejects here. When the body
 * breaks part-way (reset, timeout, early end), the read resumes with
 * `Range: bytes=<consumed>-` pinned to the first response's ETag (`IfMatch`,
 * and the resumed response's ETag is compared too, for servers that ignore
 * `IfMatch`): a changed object fails with `source_changed`, too many broken
 * reads in a row with a retryable `s3_unavailable`. A body that stays silent
 * while it is being read counts as broken too (the client's own timeouts may
 * not cover a response body). Bodies are always either
 * read to the end or destroyed.
 */
export async function openS3ObjectStream(
  client: S3Client,
  ref: S3ObjectRef,
  options: S3ObjectStreamOptions = {},
): Promise<S3ObjectStream> {
  const {
    signal,
    maxResumes = 3,
    resumeDelayMs = 200,
    idleTimeoutMs = 30_000,
    onBytes,
    highWaterMark = 64 * 1024,
  } = options;
  const where = `s3://${ref.bucket}/${ref.key}`;
  // Aborts the request or back-off under way when the stream is destroyed.
  const controller = new AbortController();
  const onAbort = () => stream.destroy(cancelledError(`reading ${where}`, signal?.reason));

  const get = async (start: number | undefined, etag: string | undefined, abortSignal: AbortSignal | undefined) => {
    const command = new GetObjectCommand({
      Bucket: ref.bucket,
      Key: ref.key,
      ...(ref.versionId ? { VersionId: ref.versionId } : {}),
      ...(start === undefined ? {} : { Range: `bytes=${start}-`, ...(etag ? { IfMatch: etag } : {}) }),
    });
    try {
      return await client.send(command, abortSignal ? { abortSignal } : {});
    } catch (error) {
      throw translateS3Error(error, `reading ${where}${start === undefined ? '' : ` from byte ${start}`}`);
    }
  };

  const first = await get(undefined, undefined, signal);
  const etag = first.ETag;
  const size = first.ContentLength;
  // Bytes handed on so far, broken reads in a row.
  let consumed = 0;
  let failures = 0;
  // The body being read, and how to declare it broken.
  let body: Readable | undefined;
  let breakBody: ((error: Error) => void) | undefined;
  // Watches the body for silence (a stalled connection); off while the consumer holds it back.
  let idle: NodeJS.Timeout | undefined;

  const watch = () => {
    if (idle) {
      idle.refresh();
      return;
    }
    idle = setTimeout(
      () => breakBody?.(new Error(`No data for ${idleTimeoutMs} ms at byte ${consumed}.`)),
      idleTimeoutMs,
    );
    idle.unref();
  };
  const unwatch = () => {
    clearTimeout(idle);
    idle = undefined;
  };

  const stream = new Readable({
    highWaterMark,
    read() {
      if (body === undefined) return;
      body.resume();
      watch();
    },
    destroy(error, callback) {
      unwatch();
      signal?.removeEventListener('abort', onAbort);
      controller.abort();
      release();
      callback(error);
    },
  });
  signal?.addEventListener('abort', onAbort, { once: true });
  attach(first);
  if (signal?.aborted) onAbort();

  function attach(response: GetObjectCommandOutput): void {
    const next = response.Body;
    if (!(next instanceof Readable)) {
      stream.destroy(new AppError('internal', `GetObject returned no readable body for ${where}.`));
      return;
    }
    // Whether this body has ended, failed or closed (its listeners then detach).
    let settled = false;
    const settle = (broken: Error | undefined) => {
      if (settled) return;
      settled = true;
      unwatch();
      breakBody = undefined;
      next.off('data', onData);
      if (broken === undefined) {
        body = undefined;
        stream.push(null);
      } else {
        release();
        if (!stream.destroyed) void resume(broken);
      }
    };
    const onData = (chunk: Buffer) => {
      consumed += chunk.length;
      failures = 0;
      onBytes?.(chunk.length);
      if (stream.push(chunk)) {
        watch();
      } else {
        // Held back by the consumer: the silence is ours until read() resumes the body.
        next.pause();
        unwatch();
      }
    };
    body = next;
    breakBody = settle;
    watch();
    next.on('data', onData);
    next.once('end', () =>
      settle(
        size !== undefined && consumed < size ? new Error(`The body ended at byte ${consumed} of ${size}.`) : undefined,
      ),
    );
    next.once('error', (error: Error) => settle(error));
    next.once('close', () => settle(new Error(`The connection closed at byte ${consumed} of ${size ?? '?'}.`)));
  }

  function release(): void {
    const current = body;
    body = undefined;
    if (current && !current.destroyed) current.destroy();
  }

  async function resume(cause: Error): Promise<void> {
    failures += 1;
    if (failures > maxResumes) {
      stream.destroy(
        new AppError(
          's3_unavailable',
          `Reading ${where} broke ${failures} times in a row at byte ${consumed} of ${size ?? '?'}: ${cause.message}`,
          { cause, retryable: true },
        ),
      );
      return;
    }
    let response: GetObjectCommandOutput;
    try {
      await sleep(resumeDelayMs * 2 ** (failures - 1), undefined, { signal: controller.signal });
      response = await get(consumed, etag, controller.signal);
    } catch (error) {
      if (stream.destroyed) return;
      const translated = translateS3Error(error, `reading ${where} from byte ${consumed}`);
      if (translated.retryable && translated.code !== 'source_changed') void resume(translated);
      else stream.destroy(translated);
      return;
    }
    const problem = stream.destroyed
      ? undefined
      : response.ETag !== etag
        ? new AppError(
            'source_changed',
            `${where} changed while it was read (ETag ${etag ?? '?'} became ${response.ETag ?? '?'} at byte ${consumed}).`,
          )
        : !response.ContentRange?.startsWith(`bytes ${consumed}-`)
          ? new AppError(
              's3_unavailable',
              `S3 did not honour Range bytes=${consumed}- for ${where} (Content-Range: ${response.ContentRange ?? 'none'}).`,
            )
          : undefined;
    if (stream.destroyed || problem) {
      (response.Body as Readable | undefined)?.destroy?.();
      if (problem) stream.destroy(problem);
      return;
    }
    attach(response);
  }

  return { stream, etag, size, versionId: first.VersionId, contentEncoding: first.ContentEncoding };
}
