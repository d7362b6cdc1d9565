import type { Middleware } from 'koa';

/**
 * `X-Content-Type-Options: nosniff` on every response, set before anything
 * else runs so errors and 404s carry it too: a browser then takes a JSON error
 * or an NDJSON output for what its type says, never for script or HTML.
 */
export function noSniff(): Middleware {
  return async function noSniffMiddleware(ctx, next) {
    ctx.set('X-Content-Type-Options', 'nosniff');
    await next();
  };
}
