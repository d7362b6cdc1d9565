import type Router from '@koa/router';
import { DEFAULT_RETRY_AFTER_SECONDS } from '../../config/config.ts';
import { AppError, toAppError } from '../../errors.ts';
import { checkBucketAllowed } from '../../jobs/check-bucket-allowed.ts';
import type { Job } from '../../jobs/job.ts';
import type { AppDeps } from '../app-deps.ts';
import { receiveMultipartUpload } from '../uploads/receive-multipart-upload.ts';
import { v1Router } from './v1-router.ts';

/**
 * `POST /v1/uploads`: a `multipart/form-data` file streamed into the input
 * bucket; `201 {"upload": {bucket, key, size, etag}, "job"}`, the job queued
 * (trigger `upload`) unless the form's `process` is false. At most
 * UPLOAD_CONCURRENCY at once: past it `503 server_busy`, answered before a byte
 * of the body is read.
 */
export function uploadRoutes(deps: Pick<AppDeps, 'apiToken' | 'uploads' | 'acceptJobs' | 'accepting'>): Router {
  const { uploads, acceptJobs, accepting = () => true } = deps;
  const router = v1Router(deps.apiToken);
  // Uploads being received now.
  let open = 0;

  router.post('/v1/uploads', async (ctx) => {
    const retryAfter = { 'Retry-After': String(uploads.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS) };
    if (!accepting()) {
      ctx.set('Connection', 'close');
      throw new AppError(
        'shutting_down',
        'The service is shutting down and accepts no uploads; retry against another instance or after restart.',
        { headers: retryAfter },
      );
    }
    if (!ctx.is('multipart/form-data')) {
      ctx.set('Connection', 'close');
      throw new AppError(
        'unsupported_media_type',
        `The body is ${ctx.request.type || 'of no declared type'}; send the file as multipart/form-data in a part named "file".`,
      );
    }
    try {
      checkBucketAllowed(uploads.bucket, uploads.allowedBuckets);
    } catch (error) {
      ctx.set('Connection', 'close');
      throw error;
    }
    if (open >= uploads.concurrency) {
      ctx.set('Connection', 'close');
      throw new AppError(
        'server_busy',
        `${uploads.concurrency} uploads are under way, UPLOAD_CONCURRENCY; retry after the Retry-After seconds.`,
        { headers: retryAfter },
      );
    }
    let received;
    open += 1;
    try {
      received = await receiveMultipartUpload(ctx.req, uploads);
    } catch (error) {
      // The rest of the body is not read: close the connection after the answer.
      if (!ctx.req.complete) ctx.set('Connection', 'close');
      throw error;
    } finally {
      open -= 1;
    }
    const { bucket, key, size, etag, versionId } = received;
    const upload = { bucket, key, size, etag };
    let job: Job | null = null;
    if (received.process) {
      try {
        [job = null] = await acceptJobs([{ bucket, key, size, etag, versionId: versionId ?? null }], 'upload');
      } catch (thrown) {
        const error = toAppError(thrown);
        throw new AppError(
          error.code,
          `The file was stored as s3://${bucket}/${key}, but no job was queued: ${error.message} Start it later with POST /v1/trigger {"key": ...}.`,
          {
            details: [{ upload }],
            cause: error,
            ...(error.headers === undefined ? {} : { headers: error.headers }),
          },
        );
      }
    }
    ctx.status = 201;
    ctx.body = { upload, job };
  });
  return router;
}
