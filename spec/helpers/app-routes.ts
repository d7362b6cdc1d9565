import type Router from '@koa/router';
import { NEVER } from 'rxjs';
import type { AppDeps } from '../../src/http/app-deps.ts';
import { createApp } from '../../src/http/create-app.ts';
import { createMemoryJobStore } from './memory-job-store.ts';
import { createLogger } from '../../src/logging/create-logger.ts';
import { createMetrics } from '../../src/metrics/create-metrics.ts';

export interface AppRoute {
  readonly method: string;
  /** The router's path, `:param` placeholders included (`/v1/jobs/:id`). */
  readonly path: string;
}

/**
 * Every route of the app, read from the stacks of the routers it mounts (HEAD
 * aside), so a route added later is found without naming it here.
 */
export function appRoutes(): AppRoute[] {
  const deps = {
    logger: createLogger({ level: 'error', format: 'json' }),
    apiToken: 't',
    metricsToken: undefined,
    inputBucket: 'ingest',
    listenHost: '127.0.0.1',
    store: createMemoryJobStore(),
    events$: NEVER,
    metrics: createMetrics({ queueDepth: () => 0, defaultMetrics: false }),
    snsFetch: async () => {
      throw new Error('unused');
    },
  } as unknown as AppDeps; // routers only keep their deps until a request comes
  const routes: AppRoute[] = [];
  for (const middleware of createApp(deps).middleware) {
    const router = (middleware as { router?: Router }).router;
    for (const layer of router?.stack ?? []) {
      for (const method of layer.methods.filter((name) => name !== 'HEAD'))
        routes.push({ method, path: String(layer.path) });
    }
  }
  return routes;
}
