import type Router from '@koa/router';
import type { Registry } from 'prom-client';
import { requireToken } from '../middleware/require-token.ts';
import { exactRouter } from './exact-router.ts';

export interface MetricsRoutesDeps {
  readonly metrics: { readonly registry: Registry };
  /** When set, `/metrics` needs `Authorization: Bearer <METRICS_TOKEN>`; else it is open. */
  readonly metricsToken: string | undefined;
}

/** `GET /metrics`: the Prometheus text exposition of the service's registry. */
export function metricsRoutes(deps: MetricsRoutesDeps): Router {
  const { metrics, metricsToken } = deps;
  const router = exactRouter();
  router.get('/metrics', requireToken(metricsToken, 's3-csv-ingest-metrics'), async (ctx) => {
    const text = await metrics.registry.metrics();
    ctx.set('Cache-Control', 'no-store');
    ctx.type = metrics.registry.contentType;
    ctx.body = text;
  });
  return router;
}
