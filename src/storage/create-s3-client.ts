import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';

export interface S3ClientConfig {
  readonly endpoint: string | undefined;
  readonly region: string;
  readonly forcePathStyle: boolean | undefined;
  /** `WHEN_REQUIRED` for S3-compatible stores that do not know the newer checksum headers. */
  readonly checksums: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  /** Static credentials (the embedded server's); unset: the SDK's default chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Sockets per host; enough for every job's read plus its parallel part uploads. */
  readonly maxSockets?: number;
  /** Longest silence on a socket before the request fails (a stalled read), ms. */
  readonly socketTimeoutMs?: number;
  /** Attempts the SDK makes itself per request (its own retry of 5xx / throttling). */
  readonly maxAttempts?: number;
}

/** One S3 client for the whole service, built in `main` and passed down. */
export function createS3Client(config: S3ClientConfig): S3Client {
  const { maxSockets = 64, socketTimeoutMs = 30_000 } = config;
  return new S3Client({
    region: config.region,
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    ...(config.forcePathStyle === undefined ? {} : { forcePathStyle: config.forcePathStyle }),
    ...(config.credentials === undefined ? {} : { credentials: { ...config.credentials } }),
    ...(config.maxAttempts === undefined ? {} : { maxAttempts: config.maxAttempts }),
    requestChecksumCalculation: config.checksums,
    responseChecksumValidation: config.checksums,
    requestHandler: new NodeHttpHandler({
      httpAgent: new Agent({ keepAlive: true, maxSockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
      connectionTimeout: 5_000,
      socketTimeout: socketTimeoutMs,
    }),
  });
}
