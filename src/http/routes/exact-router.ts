import Router, { type RouterOptions } from '@koa/router';

/**
 * A router whose paths match exactly: case included (`sensitive`), and no
 * trailing slash (`strict`). Matched loosely, `/V1/jobs` reached a route that a
 * check on the spelling `/v1/` did not guard; spelled any other way, a path is
 * no route at all (404), so a check attached to a router covers every way in.
 */
export function exactRouter(options: Omit<RouterOptions, 'sensitive' | 'strict'> = {}): Router {
  return new Router({ ...options, sensitive: true, strict: true });
}
