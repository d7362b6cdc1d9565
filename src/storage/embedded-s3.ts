import type { AddressInfo } from 'node:net';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { supportAbortMultipartUpload } from './s3rver-abort-multipart-upload.ts';
import { completeMultipartUploadsInPlace } from './s3rver-fast-multipart-complete.ts';

/** The S3 event record the embedded server emits when an object is written. */
export interface EmbeddedS3Event {
  readonly eventName: string;
  readonly s3: {
    readonly bucket: { readonly name: string };
    readonly object: { readonly key: string; readonly size?: number; readonly eTag?: string; readonly sequencer?: string };
  };
}

export interface EmbeddedS3Config {
  /** `0`: any free port. */
  readonly port: number;
  readonly host?: string;
  /** Where objects are stored. */
  readonly directory: string;
  /** Buckets created at start (kept if they exist). */
  readonly buckets: readonly string[];
  /** Called for every object written or deleted, like an S3 event notification. */
  readonly onEvent?: (record: EmbeddedS3Event) => void;
}

export interface EmbeddedS3 {
  readonly endpoint: string;
  readonly port: number;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly directory: string;
  close(): Promise<void>;
}

/** s3rver's fixed credentials: any S3 client can use them against the embedded server. */
export const EMBEDDED_S3_CREDENTIALS = Object.freeze({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });

/**
 * Starts the embedded S3-protocol server (s3rver) on loopback. The service and
 * the specs talk to it through the same AWS SDK code path as real S3.
 */
export async function startEmbeddedS3(config: EmbeddedS3Config): Promise<EmbeddedS3> {
  const { port, host = '127.0.0.1', directory, buckets, onEvent } = config;
  await mkdir(directory, { recursive: true });
  // Loaded only in embedded mode: a service with S3_ENDPOINT set carries none of it.
  const { default: S3rver } = await import('s3rver');
  const server = new S3rver({
    port,
    address: host,
    directory,
    silent: true,
    vhostBuckets: false,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  // s3rver 3.7 cannot abort a multipart upload by itself: aborted uploads (jobs, the upload endpoint) would leave their parts on disk.
  supportAbortMultipartUpload(server, directory);
  // …and it completes one by copying and hashing every byte again in JavaScript.
  completeMultipartUploadsInPlace(server, createRequire(import.meta.url)('s3rver/lib/models/error.js') as Parameters<typeof completeMultipartUploadsInPlace>[1]);
  if (onEvent) {
    server.on('event', (event: { Records?: EmbeddedS3Event[] }) => {
      for (const record of event.Records ?? []) onEvent(record);
    });
  }
  // s3rver reports its own request errors (client aborts among them) here; they are not ours.
  server.on('error', () => undefined);
  const address = (await server.run()) as AddressInfo;
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  return {
    endpoint,
    port: address.port,
    credentials: EMBEDDED_S3_CREDENTIALS,
    directory,
    async close() {
      const http = (server as unknown as { httpServer?: { closeAllConnections?: () => void } }).httpServer;
      const closing = server.close();
      http?.closeAllConnections?.();
      await closing;
    },
  };
}
