import Koa from 'koa';
import { isLoopback } from '../config/load-config.ts';
import { measureHttp } from '../metrics/measure-http.ts';
import type { AppDeps } from './app-deps.ts';
import { handleErrors } from './middleware/handle-errors.ts';
import { noSniff } from './middleware/no-sniff.ts';
import { refuseCrossSite } from './middleware/refuse-cross-site.ts';
import { requestId } from './middleware/request-id.ts';
import { requireLoopbackHost } from './middleware/require-loopback-host.ts';
import { dashboardRoutes } from './routes/dashboard-routes.ts';
import { eventRoutes } from './routes/event-routes.ts';
import { metricsRoutes } from './routes/metrics-routes.ts';
import { openapiRoutes } from './routes/openapi-routes.ts';
import { healthRoutes } from './routes/health-routes.ts';
import { jobRoutes } from './routes/job-routes.ts';
import { triggerRoutes } from './routes/trigger-routes.ts';
import { uploadRoutes } from './routes/upload-routes.ts';

/**
 * The Koa application: `nosniff`, request id and log, HTTP metrics, one error
 * middleware; without an API token, the browser defences; then the routers,
 * every one matching paths exactly. Health, metrics (own token), OpenAPI and
 * dashboard routes are open; the `/v1` routers check the bearer token themselves.
 */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: false });
  app.silent = true;
  app.on('error', (error: unknown) => deps.logger.debug('koa error event', { error: String(error) }));

  app.use(noSniff());
  app.use(requestId(deps.logger));
  app.use(measureHttp(deps.metrics));
  app.use(handleErrors(deps.logger));
  if (deps.apiToken === undefined) {
    // A browser never adds a bearer token by itself, so with one set these are moot.
    // On a non-loopback HOST (ALLOW_UNAUTHENTICATED) clients use the machine's
    // own names, which cannot be listed: the Host check is for loopback alone.
    if (isLoopback(deps.listenHost)) app.use(requireLoopbackHost());
    app.use(refuseCrossSite());
  }

  for (const router of [
    healthRoutes(deps),
    metricsRoutes(deps),
    openapiRoutes(),
    dashboardRoutes(deps),
    triggerRoutes(deps),
    uploadRoutes(deps),
    jobRoutes(deps),
    eventRoutes(deps),
  ]) {
    app.use(router.routes());
    // Not thrown: the status and Allow stay for the error middleware, which answers in the contract's shape.
    app.use(router.allowedMethods());
  }
  return app;
}
