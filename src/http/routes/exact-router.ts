import Router, { type RouterOptions } from '@koa/router';

/** What the routers implement: OPTIONS is not among them, since the service answers no CORS preflight. */
const METHODS = ['HEAD', 'GET', 'PUT', 'PATCH', 'POST', 'DELETE'];

/**
 * A router whose paths match exactly: case included (`sensitive`), and no
 * trailing slash (`strict`). Matched loosely, `/V1/jobs` reached a route that a
 * check on the spelling `/v1/` did not guard; spelled any other way, a path is
 * no route at all (404), so a check attached to a router covers every way in.
 * OPTIONS is left out: the router would answer it `200` with `Allow` before any
 * check of a route has run.
 */
export function exactRouter(options: Omit<RouterOptions, 'sensitive' | 'strict' | 'methods'> = {}): Router {
  return new Router({ ...options, sensitive: true, strict: true, methods: METHODS });
}
