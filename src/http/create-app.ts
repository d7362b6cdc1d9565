import Koa from 'koa';
import { measureHttp } from '../metrics/measure-http.ts';
import type { AppDeps } from './app-deps.ts';
import { handleErrors } from './middleware/handle-errors.ts';
import { requestId } from './middleware/request-id.ts';
import { requireToken } from './middleware/require-token.ts';
import { dashboardRoutes } from './routes/dashboard-routes.ts';
import { eventRoutes } from './routes/event-routes.ts';
import { metricsRoutes } from './routes/metrics-routes.ts';
import { openapiRoutes } from './routes/openapi-routes.ts';
import { healthRoutes } from './routes/health-routes.ts';
import { jobRoutes } from './routes/job-routes.ts';
import { triggerRoutes } from './routes/trigger-routes.ts';
import { uploadRoutes } from './routes/upload-routes.ts';

/**
 * The Koa application: request id and log, HTTP metrics, one error middleware,
 * open health, metrics (own token), OpenAPI and dashboard routes, then bearer auth on
 * everything under `/v1`.
 */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: false });
  app.silent = true;
  app.on('error', (error: unknown) => deps.logger.debug('koa error event', { error: String(error) }));

  app.use(requestId(deps.logger));
  app.use(measureHttp(deps.metrics));
  app.use(handleErrors(deps.logger));
  const health = healthRoutes(deps);
  app.use(health.routes());
  for (const router of [metricsRoutes(deps), openapiRoutes(), dashboardRoutes(deps)]) {
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: true }));
  }

  const auth = requireToken(deps.apiToken);
  app.use(async (ctx, next) => (ctx.path === '/v1' || ctx.path.startsWith('/v1/') ? auth(ctx, next) : next()));

  for (const router of [triggerRoutes(deps), uploadRoutes(deps), jobRoutes(deps), eventRoutes(deps)]) {
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: true }));
  }
  return app;
}
