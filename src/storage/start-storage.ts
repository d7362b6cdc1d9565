import type { S3Client } from '@aws-sdk/client-s3';
import path from 'node:path';
import type { Config } from '../config/config.ts';
import { createObjectWriter, type ObjectWriter } from './create-object-writer.ts';
import { createOutputDownloads, type OutputDownloads } from './create-output-downloads.ts';
import { createS3Client, type S3ClientConfig } from './create-s3-client.ts';
import { startEmbeddedS3, type EmbeddedS3, type EmbeddedS3Event, type EmbeddedS3Exit } from './embedded-s3.ts';

export interface StorageHooks {
  /** The embedded server's object events. */
  readonly onEvent?: (record: EmbeddedS3Event) => void;
  /** The embedded server's process ended and is being started again. */
  readonly onRestart?: (exit: EmbeddedS3Exit) => void;
}

export interface Storage {
  /** Endpoint in use: the embedded server's unless `S3_ENDPOINT` is set. */
  readonly endpoint: string;
  readonly embedded: EmbeddedS3 | undefined;
  /** The buckets the embedded server holds (empty for an external S3). */
  readonly embeddedBuckets: readonly string[];
  /** What worker threads need to build clients of their own. */
  readonly clientConfig: S3ClientConfig;
  /** Triggers' HEAD checks and uploads. */
  readonly s3: S3Client;
  /** Output downloads, on sockets of their own. */
  readonly downloads: OutputDownloads;
  /** Writes uploaded files into the input bucket. */
  readonly uploadWriter: ObjectWriter;
  close(): Promise<void>;
}

/**
 * The S3 side of an instance: the configured endpoint, or an embedded server
 * (started here, with its buckets) when `S3_ENDPOINT` is unset; the clients
 * that talk to it.
 */
export async function startStorage(config: Config, hooks: StorageHooks = {}): Promise<Storage> {
  const embeddedBuckets =
    config.s3.endpoint === undefined
      ? [...new Set([config.buckets.input, config.buckets.output, ...config.buckets.allowed])]
      : [];
  const embedded =
    config.s3.endpoint === undefined
      ? await startEmbeddedS3({
          ...hooks,
          port: config.s3.embeddedPort,
          directory: path.join(config.dataDir, 's3'),
          buckets: embeddedBuckets,
        })
      : undefined;
  const endpoint = embedded?.endpoint ?? config.s3.endpoint ?? '';
  const clientConfig: S3ClientConfig = {
    endpoint,
    region: config.s3.region,
    forcePathStyle: config.s3.forcePathStyle,
    checksums: config.s3.checksums,
    ...(embedded ? { credentials: embedded.credentials } : {}),
  };
  // Enough sockets for every upload's parallel parts and the HEAD checks beside them.
  const s3 = createS3Client({ ...clientConfig, maxSockets: Math.max(16, config.s3.queueSize * 2 + 8) });
  // Downloads on their own sockets: clients that stop reading cannot starve HEAD checks and uploads.
  const downloads = createOutputDownloads({ s3: clientConfig, retryAfterSeconds: config.http.retryAfterSeconds });
  const uploadWriter = createObjectWriter(s3, {
    bucket: config.buckets.input,
    partSize: config.s3.partSize,
    queueSize: config.s3.queueSize,
    sse: config.s3.sse,
  });
  return {
    endpoint,
    embedded,
    embeddedBuckets,
    clientConfig,
    s3,
    downloads,
    uploadWriter,
    async close() {
      s3.destroy();
      downloads.close();
      await embedded?.close();
    },
  };
}
