import type Router from '@koa/router';
import type { AppDeps } from '../app-deps.ts';
import { exactRouter } from './exact-router.ts';

/** `GET /healthz` (liveness) and `GET /readyz` (store reachable, not shutting down). No auth. */
export function healthRoutes(deps: Pick<AppDeps, 'readiness'>): Router {
  const router = exactRouter();
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const { ready, problems } = await deps.readiness();
    ctx.set('Cache-Control', 'no-store');
    ctx.status = ready ? 200 : 503;
    ctx.body = ready ? { status: 'ready' } : { status: 'not_ready', problems };
  });
  return router;
}
