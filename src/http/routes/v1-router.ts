import type Router from '@koa/router';
import { requireToken } from '../middleware/require-token.ts';
import { exactRouter } from './exact-router.ts';

/**
 * A router for `/v1` routes: exact paths, and the bearer token checked before
 * any of its routes runs. The check belongs to the router, not to a test on the
 * request path, so whatever reaches one of these routes has passed it. It is
 * registered before the routes, so it comes first in the router's stack.
 */
export function v1Router(apiToken: string | undefined): Router {
  return exactRouter().use(requireToken(apiToken));
}
