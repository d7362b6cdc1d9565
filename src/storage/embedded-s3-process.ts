// Entry of the embedded S3 server's child process, forked and supervised by
// startEmbeddedS3: s3rver with the project's patches, behind the request guard.
// Whatever a request does to s3rver ends here, not in the service.
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { RequestListener } from 'node:http';
import type { EmbeddedS3Event } from './embedded-s3.ts';
import { guardS3Requests } from './guard-s3-requests.ts';
import { supportAbortMultipartUpload } from './s3rver-abort-multipart-upload.ts';
import { completeMultipartUploadsInPlace } from './s3rver-fast-multipart-complete.ts';
import { refuseUnstorableKeys } from './s3rver-refuse-unstorable-keys.ts';

/** What the process is started with (its one argument, as JSON). */
export interface EmbeddedS3ProcessOptions {
  readonly port: number;
  readonly host: string;
  readonly directory: string;
  readonly buckets: readonly string[];
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** Messages to the parent. */
export type FromEmbeddedS3Process =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'event'; readonly record: EmbeddedS3Event }
  | { readonly type: 'failed'; readonly reason: string };

/** Messages from the parent. */
export type ToEmbeddedS3Process = { readonly type: 'close' };

/** s3rver's error type (its controller answers `code` with the matching S3 status). */
type S3ErrorClass = new (code: string, message: string, detail?: Record<string, unknown>) => Error;

const options = JSON.parse(process.argv[2] ?? '{}') as EmbeddedS3ProcessOptions;
const send = (message: FromEmbeddedS3Process, done?: () => void) => {
  if (process.connected) process.send?.(message, undefined, {}, () => done?.());
  else done?.();
};
const fail = (error: unknown) => {
  // The parent logs the reason and starts a new process on the same port and data.
  send({ type: 'failed', reason: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () => process.exit(1));
  setTimeout(() => process.exit(1), 1_000).unref();
};
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);
// The service is gone (killed, crashed): nothing may keep serving its data.
process.on('disconnect', () => process.exit(0));

try {
  await mkdir(options.directory, { recursive: true });
  const require = createRequire(import.meta.url);
  const { default: S3rver } = await import('s3rver');
  const S3Error = require('s3rver/lib/models/error.js') as S3ErrorClass;
  const server = new S3rver({
    port: options.port,
    address: options.host,
    directory: options.directory,
    silent: true,
    vhostBuckets: false,
    configureBuckets: options.buckets.map((name) => ({ name, configs: [] })),
  });
  // s3rver 3.7 cannot abort a multipart upload by itself: aborted uploads (jobs, the upload endpoint) would leave their parts on disk.
  supportAbortMultipartUpload(server, options.directory);
  // …and it completes one by copying and hashing every byte again in JavaScript.
  completeMultipartUploadsInPlace(server, S3Error);
  refuseUnstorableKeys(server, S3Error);
  // s3rver.run() serves its Koa app's callback(): the guard goes in front of it.
  const app = server as unknown as { callback(): RequestListener };
  const callback = app.callback.bind(server);
  const { accessKeyId, secretAccessKey } = options.credentials;
  app.callback = () => guardS3Requests(callback(), { secretFor: (id) => (id === accessKeyId ? secretAccessKey : undefined) });
  server.on('event', (event: { Records?: EmbeddedS3Event[] }) => {
    for (const record of event.Records ?? []) send({ type: 'event', record });
  });
  // s3rver reports its own request errors (client aborts among them) here; they are not ours.
  server.on('error', () => undefined);
  const address = (await server.run()) as AddressInfo;
  process.on('message', (message: ToEmbeddedS3Process) => {
    if (message.type !== 'close') return;
    const http = (server as unknown as { httpServer?: { closeAllConnections?: () => void } }).httpServer;
    const closing = server.close();
    http?.closeAllConnections?.();
    void closing.finally(() => process.exit(0));
  });
  send({ type: 'listening', port: address.port });
} catch (error) {
  fail(error);
}
