import { mkdir } from 'node:fs/promises';
import type { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { EmbeddedS3Event } from './embedded-s3.ts';
import { assertS3rverInternals } from './assert-s3rver-internals.ts';
import { guardS3Requests } from './guard-s3-requests.ts';
import { supportAbortMultipartUpload } from './s3rver-abort-multipart-upload.ts';
import { completeMultipartUploadsInPlace } from './s3rver-fast-multipart-complete.ts';
import { refuseUnstorableKeys } from './s3rver-refuse-unstorable-keys.ts';

export interface ServeS3rverOptions {
  readonly port: number;
  readonly host: string;
  readonly directory: string;
  /** Created at start (kept if they exist). */
  readonly buckets: readonly string[];
  /** The only credentials whose signatures are accepted. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly onEvent?: (record: EmbeddedS3Event) => void;
}

export interface ServedS3rver {
  readonly port: number;
  close(): Promise<void>;
}

/** s3rver's error type (its controller answers `code` with the matching S3 status). */
type S3ErrorClass = new (code: string, message: string, detail?: Record<string, unknown>) => Error;

/**
 * Runs s3rver in this process, with the project's patches and behind the
 * request guard. Its file writes have no error handlers: run it in a process of
 * its own (startEmbeddedS3's child, a spec's S3 process), never in the service.
 */
export async function serveS3rver(options: ServeS3rverOptions): Promise<ServedS3rver> {
  const { port, host, directory, buckets, credentials, onEvent } = options;
  await mkdir(directory, { recursive: true });
  const { default: S3rver } = await import('s3rver');
  const require = createRequire(import.meta.url);
  const S3Error = require('s3rver/lib/models/error.js') as S3ErrorClass;
  const { version } = require('s3rver/package.json') as { version: string };
  const server = new S3rver({
    port,
    address: host,
    directory,
    silent: true,
    vhostBuckets: false,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  assertS3rverInternals(server, version, S3Error);
  // s3rver 3.7 cannot abort a multipart upload by itself: aborted uploads (jobs, the upload endpoint) would leave their
  // parts on disk.
  supportAbortMultipartUpload(server, directory);
  // …and it completes one by copying and hashing every byte again in JavaScript.
  completeMultipartUploadsInPlace(server, S3Error);
  refuseUnstorableKeys(server, S3Error);
  // s3rver.run() serves its Koa app's callback(): the guard goes in front of it.
  const app = server as unknown as { callback(): RequestListener };
  const callback = app.callback.bind(server);
  const { accessKeyId, secretAccessKey } = credentials;
  app.callback = () =>
    guardS3Requests(callback(), { secretFor: (id) => (id === accessKeyId ? secretAccessKey : undefined) });
  if (onEvent) {
    server.on('event', (event: { Records?: EmbeddedS3Event[] }) => {
      for (const record of event.Records ?? []) onEvent(record);
    });
  }
  // s3rver reports its own request errors (client aborts among them) here; they are not ours.
  server.on('error', () => undefined);
  const address = (await server.run()) as AddressInfo;
  return {
    port: address.port,
    async close() {
      const http = (server as unknown as { httpServer?: { closeAllConnections?: () => void } }).httpServer;
      const closing = server.close();
      http?.closeAllConnections?.();
      await closing;
    },
  };
}
