import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type S3rver from 's3rver';

/** The part of a Koa context the middleware reads and writes. */
interface KoaContext {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string | string[] | undefined>>;
  status: number;
  body: unknown;
  type: string;
}

type KoaMiddleware = (ctx: KoaContext, next: () => Promise<unknown>) => Promise<unknown>;

/** An s3rver instance (a Koa application) before `run()`. */
interface S3rverApp {
  readonly middleware: KoaMiddleware[];
}

/**
 * s3rver 3.7 answers `AbortMultipartUpload` with `MethodNotAllowed` and keeps
 * the parts on disk under `<directory>/<bucket>/._S3rver_uploads/<uploadId>`
 * forever. This adds the operation in front of its router, so a cancelled job
 * leaves no unfinished upload behind on the embedded server either. Call it
 * before `run()`. Upload ids are s3rver's hex ids; anything else is passed on.
 */
export function supportAbortMultipartUpload(server: S3rver, directory: string): void {
  const middleware: KoaMiddleware = async (ctx, next) => {
    const uploadId = ctx.query['uploadId'];
    const bucket = /^\/([^/]+)\/./.exec(ctx.path)?.[1];
    if (
      ctx.method !== 'DELETE' ||
      typeof uploadId !== 'string' ||
      !/^[0-9a-f]{8,64}$/.test(uploadId) ||
      bucket === undefined
    ) {
      return next();
    }
    const uploadDirectory = path.join(directory, decodeURIComponent(bucket), '._S3rver_uploads', uploadId);
    if (!path.resolve(uploadDirectory).startsWith(path.resolve(directory) + path.sep)) return next();
    try {
      await stat(uploadDirectory);
    } catch {
      ctx.status = 404;
      ctx.type = 'application/xml';
      ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message><UploadId>${uploadId}</UploadId></Error>`;
      return undefined;
    }
    await rm(uploadDirectory, { recursive: true, force: true });
    ctx.status = 204;
    return undefined;
  };
  (server as unknown as S3rverApp).middleware.unshift(middleware);
}
