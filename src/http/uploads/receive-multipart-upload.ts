import busboy, { type Busboy } from 'busboy';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import { AppError, isAppError, toAppError } from '../../errors.ts';
import { checkObjectKey } from '../../jobs/check-object-key.ts';
import { parseInput } from '../parse-input.ts';
import { uploadKey, uploadProcess } from '../request-schemas.ts';
import type { OwnWrites } from '../../jobs/create-own-writes.ts';
import { defaultUploadKey } from './default-upload-key.ts';

/**
 * Writes and removes objects of the upload bucket; its errors are `AppError`s.
 * `service.ts` injects storage's `createObjectWriter`, so this side holds no S3 client.
 */
export interface UploadWriter {
  open(
    key: string,
    contentType: string,
  ): {
    readonly stream: Writable;
    readonly done: Promise<{ readonly etag: string; readonly versionId: string | undefined; readonly size: number }>;
  };
  remove(key: string): Promise<void>;
}

/** Where and how uploads are written; `service.ts` builds it from the config. */
export interface UploadTarget {
  /** Writes into `bucket`. */
  readonly writer: UploadWriter;
  /** INPUT_BUCKET. */
  readonly bucket: string;
  /** UPLOAD_MAX_BYTES: a larger file is `payload_too_large` and nothing is kept. */
  readonly maxBytes: number;
  /**
   * OUTPUT_PREFIX: keys under it are refused (job outputs live there), like keys breaking the other key rules; '' for
   * none.
   */
  readonly reservedPrefix: string;
  /** ALLOWED_BUCKETS: when `bucket` is not among them, uploads are refused before the body is read. */
  readonly allowedBuckets: readonly string[];
  /** UPLOAD_CONCURRENCY: uploads at once; past it `server_busy`, before the body is read. */
  readonly concurrency: number;
  /** RETRY_AFTER_SECONDS: the `Retry-After` of an upload refused (busy, shutting down), s. */
  readonly retryAfterSeconds?: number;
  /** UPLOAD_TIMEOUT_MS: the longest an upload may stream; past it `upload_timeout` and nothing is kept. */
  readonly timeoutMs: number;
  readonly ownWrites: OwnWrites;
  /** Told when an abandoned upload could not be removed. */
  readonly onCleanupError: (error: unknown, key: string) => void;
  /** Longest silence of the client while the body is read; past it the upload is abandoned. Default 60 s. */
  readonly idleTimeoutMs?: number;
  readonly now?: () => Date;
  readonly newId?: () => string;
}

export interface ReceivedUpload {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly versionId: string | undefined;
  /** The form's `process` field (default true). */
  readonly process: boolean;
}

/** The file part being written: the upload's stream and outcome. */
interface Writing {
  readonly key: string;
  readonly body: Writable;
  readonly stored: Promise<{ etag: string; versionId: string | undefined; size: number }>;
}

/**
 * Streams a `multipart/form-data` request's `file` part straight into an S3
 * multipart upload: busboy → the injected writer (lib-storage's `Upload`), with
 * backpressure end to end, nothing buffered whole. Fields `key` and `process`
 * must come before the file. On any failure — too large, malformed, a field
 * after the file, the client gone, a body still streaming after `timeoutMs`,
 * S3 failing — reading stops, the multipart
 * upload is aborted (or the object deleted if it was already complete), and the
 * first error is thrown.
 */
export async function receiveMultipartUpload(req: IncomingMessage, target: UploadTarget): Promise<ReceivedUpload> {
  const { bucket, now = () => new Date(), newId = randomUUID, idleTimeoutMs = 60_000, timeoutMs } = target;
  const form = openForm(req, target.maxBytes);
  // Text fields read before the file part.
  const fields = new Map<string, string>();
  // The file part, once it has started.
  let writing: Writing | undefined;
  // The first failure; later ones are consequences of it.
  let failure: AppError | undefined;
  let settle!: { resolve: () => void; reject: (error: AppError) => void };
  const formRead = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));

  const fail = (error: AppError) => {
    if (failure !== undefined) return;
    failure = error;
    req.unpipe(form);
    req.resume(); // discard the rest of the body
    writing?.body.destroy(error);
    settle.reject(error);
  };

  form.on('field', (name, value, info) => {
    if (writing !== undefined)
      return fail(
        badRequest(`The field "${name}" came after the file part; send the fields key and process before the file.`),
      );
    if (name !== 'key' && name !== 'process')
      return fail(
        badRequest(`Unknown field "${name}"; the form takes the fields key and process and the file part "file".`),
      );
    if (info.valueTruncated) return fail(badRequest(`The field "${name}" is too long.`));
    if (fields.has(name)) return fail(badRequest(`The field "${name}" is given twice.`));
    fields.set(name, value);
  });
  form.on('file', (name, file, info) => {
    if (failure !== undefined) return void file.resume();
    if (name !== 'file') {
      file.resume();
      return fail(badRequest(`Unexpected file part "${name}"; send the file in a part named "file".`));
    }
    try {
      writing = startWriting(file, chooseKey(info.filename), info.mimeType);
    } catch (error) {
      file.resume();
      return fail(isAppError(error) ? error : badRequest(String(error)));
    }
    file.on('limit', () =>
      fail(
        new AppError(
          'payload_too_large',
          `The file is larger than UPLOAD_MAX_BYTES (${target.maxBytes} bytes); nothing was stored.`,
        ),
      ),
    );
    writing.stored.catch((error: unknown) => fail(toAppError(error)));
  });
  form.on('filesLimit', () => fail(badRequest('The form has more than one file part; send one file per request.')));
  form.on('fieldsLimit', () => fail(badRequest('The form has too many fields.')));
  form.on('partsLimit', () => fail(badRequest('The form has too many parts.')));
  form.on('error', (error: Error) => fail(badRequest(`The multipart body is malformed (${error.message}).`)));
  form.on('close', () => settle.resolve());
  req.on('error', () => fail(clientGone()));
  req.on('close', () => {
    if (!req.complete) fail(clientGone());
  });
  // A client that stops sending would otherwise hold the socket and the multipart upload forever.
  const onIdle = () => fail(badRequest(`The upload stalled: nothing was received for ${idleTimeoutMs} ms.`));
  // On the request, not the socket: with a listener there, the HTTP server keeps the socket, so the client gets an
  // answer.
  req.setTimeout(idleTimeoutMs);
  req.once('timeout', onIdle);
  // A client that keeps sending a byte now and then is never idle: the whole body has a deadline too.
  const deadline = setTimeout(
    () =>
      fail(
        new AppError(
          'upload_timeout',
          `The upload was still streaming after UPLOAD_TIMEOUT_MS (${timeoutMs} ms); it was cut and nothing was stored.`,
        ),
      ),
    timeoutMs,
  );
  const stopDeadline = () => clearTimeout(deadline);
  // Once the body is read, only S3's completion is left: that is not cut.
  formRead.then(stopDeadline, stopDeadline);
  req.pipe(form);

  try {
    await formRead;
    if (writing === undefined) throw badRequest('The form has no file part; send the file in a part named "file".');
    const stored = await writing.stored;
    return {
      bucket,
      key: writing.key,
      size: stored.size,
      etag: stored.etag,
      versionId: stored.versionId,
      process: fields.has('process') ? parseInput(uploadProcess, fields.get('process'), 'process field') : true,
    };
  } catch (error) {
    fail(toAppError(error));
    await abandon(writing);
    throw failure ?? error;
  } finally {
    stopDeadline();
    req.setTimeout(0);
    req.off('timeout', onIdle);
  }

  function chooseKey(fileName: string | undefined): string {
    if (fields.has('process')) parseInput(uploadProcess, fields.get('process'), 'process field');
    const key = fields.has('key')
      ? parseInput(uploadKey, fields.get('key'), 'key field')
      : defaultUploadKey(fileName, now(), newId());
    // The key as it is handed to S3, unchanged from here on: the one the rules must hold for.
    checkObjectKey(key, target.reservedPrefix);
    return key;
  }

  function startWriting(file: Readable, key: string, contentType: string): Writing {
    const ended = target.ownWrites.begin(bucket, key);
    const upload = target.writer.open(key, contentType || 'application/octet-stream');
    file.pipe(upload.stream);
    const stored = upload.done.then(
      (result) => {
        ended(result.etag);
        return result;
      },
      (error: unknown) => {
        ended();
        throw error;
      },
    );
    return { key, body: upload.stream, stored };
  }

  /**
   * After a failure: waits for the upload to settle (its multipart upload aborted); deletes an object that got stored
   * anyway.
   */
  async function abandon(abandoned: Writing | undefined): Promise<void> {
    if (abandoned === undefined) return;
    const stored = await abandoned.stored.then(
      () => true,
      () => false,
    );
    if (!stored) return;
    try {
      await target.writer.remove(abandoned.key);
    } catch (error) {
      target.onCleanupError(error, abandoned.key);
    }
  }
}

function openForm(req: IncomingMessage, maxBytes: number): Busboy {
  try {
    return busboy({
      headers: req.headers,
      defParamCharset: 'utf8',
      // busboy reports `limit` on reaching fileSize, so one byte more lets a file of exactly maxBytes through.
      limits: { fileSize: maxBytes + 1, files: 1, fields: 8, fieldSize: 4096, parts: 10 },
    });
  } catch (error) {
    throw badRequest(`The multipart body cannot be read (${(error as Error).message}).`);
  }
}

function badRequest(message: string): AppError {
  return new AppError('validation_failed', message);
}

function clientGone(): AppError {
  return new AppError(
    'client_disconnected',
    'The request body ended before the multipart form was complete (the client disconnected).',
  );
}
