import Koa from 'koa';
import type { AppDeps } from './app-deps.ts';
import { handleErrors } from './middleware/handle-errors.ts';
import { requestId } from './middleware/request-id.ts';
import { requireToken } from './middleware/require-token.ts';
import { healthRoutes } from './routes/health-routes.ts';
import { jobRoutes } from './routes/job-routes.ts';
import { triggerRoutes } from './routes/trigger-routes.ts';
import { uploadRoutes } from './routes/upload-routes.ts';

/**
 * The Koa application: request id and log, one error middleware, open health
 * routes, then bearer auth on everything under `/v1`.
 */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: false });
  app.silent = true;
  app.on('error', (error: unknown) => deps.logger.debug('koa error event', { error: String(error) }));

  app.use(requestId(deps.logger));
  app.use(handleErrors(deps.logger));
  const health = healthRoutes(deps);
  app.use(health.routes());

  const auth = requireToken(deps.apiToken);
  app.use(async (ctx, next) => (ctx.path === '/v1' || ctx.path.startsWith('/v1/') ? auth(ctx, next) : next()));

  for (const router of [triggerRoutes(deps), uploadRoutes(deps), jobRoutes(deps)]) {
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: true }));
  }
  return app;
}
