import type { Middleware } from 'koa';
import type { Metrics } from './create-metrics.ts';

/** The route label of requests no router matched (one label, whatever the URL: bounded cardinality). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Times every request, from arrival until its response has been sent (a streamed
 * download or upload counts whole), labelled by method, the router path that
 * matched (`/v1/jobs/:id`, never the raw URL) and status. A `201` from
 * `POST /v1/uploads` also counts the stored file's bytes (its `upload.size`).
 * Put it before the error middleware, so it sees the final status.
 */
export function measureHttp(metrics: Pick<Metrics, 'httpDuration' | 'uploads' | 'uploadBytes'>): Middleware {
  return async function measureHttpMiddleware(ctx, next) {
    const stop = metrics.httpDuration.startTimer();
    try {
      await next();
    } finally {
      const matched = (ctx as { _matchedRoute?: string | RegExp })['_matchedRoute'];
      const route = matched === undefined ? UNMATCHED_ROUTE : String(matched);
      if (ctx.method === 'POST' && route === '/v1/uploads' && ctx.status === 201) countUpload(ctx.body);
      const labels = { method: ctx.method, route };
      let done = false;
      const end = () => {
        if (done) return;
        done = true;
        stop({ ...labels, status: String(ctx.status) });
      };
      if (ctx.res.writableFinished || ctx.res.destroyed) end();
      else {
        ctx.res.once('finish', end);
        ctx.res.once('close', end);
      }
    }
  };

  function countUpload(body: unknown): void {
    const size = (body as { upload?: { size?: unknown } } | null)?.upload?.size;
    if (typeof size !== 'number') return;
    metrics.uploads.inc();
    metrics.uploadBytes.inc(size);
  }
}
