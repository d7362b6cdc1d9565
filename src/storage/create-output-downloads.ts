import { DEFAULT_RETRY_AFTER_SECONDS } from '../config/config.ts';
import { AppError } from '../errors.ts';
import { createS3Client, type S3ClientConfig } from './create-s3-client.ts';
import { openOutputObject, type OpenedOutput } from './open-output-object.ts';

export interface OutputDownloadsConfig {
  /** Where the outputs are; the downloads get their own client (and sockets) to it. */
  readonly s3: S3ClientConfig;
  /** Downloads streaming at once, and the sockets of their client; past it `server_busy`. Default 8. */
  readonly maxOpen?: number;
  /**
   * Longest silence on a download's S3 socket before its stream is destroyed, ms. Default 60 s.
   * The socket goes quiet only once every buffer between it and the client is full, so this is
   * how long a client may stop reading; a reading client, however slow, never reaches it.
   */
  readonly idleTimeoutMs?: number;
  /** `Retry-After` of a download refused for the cap (`RETRY_AFTER_SECONDS`), s. */
  readonly retryAfterSeconds?: number;
}

export interface OutputDownloads {
  /** Opens an output for streaming; `server_busy` past `maxOpen`, `not_found` for a missing object. */
  open(bucket: string, key: string, contentType: string): Promise<OpenedOutput>;
  /** Destroys the client and its sockets (open downloads end). */
  close(): void;
}

/**
 * Output downloads on an S3 client of their own: a client that stops reading
 * holds one of its `maxOpen` sockets for at most `idleTimeoutMs`, and never one of
 * the sockets that triggers' HEAD checks, job reads and uploads use. A download
 * is counted from its open until its body closes (ends, fails or is destroyed
 * because the client left), and refused past `maxOpen` rather than queued for a
 * socket.
 */
export function createOutputDownloads(config: OutputDownloadsConfig): OutputDownloads {
  const { maxOpen = 8, idleTimeoutMs = 60_000, retryAfterSeconds = DEFAULT_RETRY_AFTER_SECONDS } = config;
  const client = createS3Client({ ...config.s3, maxSockets: maxOpen, socketTimeoutMs: idleTimeoutMs });
  // Downloads from their open to their body's close.
  let open = 0;

  return {
    async open(bucket, key, contentType) {
      if (open >= maxOpen) {
        throw new AppError(
          'server_busy',
          `${maxOpen} output downloads are streaming, the most this service serves at once; retry after ${retryAfterSeconds} s.`,
          {
            headers: { 'Retry-After': String(retryAfterSeconds) },
          },
        );
      }
      open += 1;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        open -= 1;
      };
      try {
        const output = await openOutputObject(client, bucket, key, contentType);
        output.body.once('close', release);
        if (output.body.destroyed) release();
        return output;
      } catch (error) {
        release();
        throw error;
      }
    },
    close() {
      client.destroy();
    },
  };
}
