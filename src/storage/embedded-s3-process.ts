// Entry of the embedded S3 server's child process, forked and supervised by
// startEmbeddedS3. Whatever a request does to s3rver ends here, not in the service.
import type { EmbeddedS3Event } from './embedded-s3.ts';
import { serveS3rver, type ServeS3rverOptions } from './serve-s3rver.ts';

/** What the process is started with (its one argument, as JSON). */
export type EmbeddedS3ProcessOptions = Omit<ServeS3rverOptions, 'onEvent'>;

/** Messages to the parent. */
export type FromEmbeddedS3Process =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'event'; readonly record: EmbeddedS3Event }
  | { readonly type: 'failed'; readonly reason: string };

/** Messages from the parent. */
export type ToEmbeddedS3Process = { readonly type: 'close' };

const send = (message: FromEmbeddedS3Process, done?: () => void) => {
  if (process.connected) process.send?.(message, undefined, {}, () => done?.());
  else done?.();
};
const fail = (error: unknown) => {
  // The parent logs the reason and starts a new process on the same port and data.
  send({ type: 'failed', reason: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () =>
    process.exit(1),
  );
  setTimeout(() => process.exit(1), 1_000).unref();
};
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);
// The service is gone (killed, crashed): nothing may keep serving its data.
process.on('disconnect', () => process.exit(0));

try {
  const options = JSON.parse(process.argv[2] ?? '{}') as EmbeddedS3ProcessOptions;
  const server = await serveS3rver({ ...options, onEvent: (record) => send({ type: 'event', record }) });
  process.on('message', (message: ToEmbeddedS3Process) => {
    if (message.type === 'close') void server.close().finally(() => process.exit(0));
  });
  send({ type: 'listening', port: server.port });
} catch (error) {
  fail(error);
}
