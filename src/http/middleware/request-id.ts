import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../../logging/create-logger.ts';

const VALID_ID = /^[\w.:-]{1,128}$/;

/**
 * Gives every request an id (the client's `X-Request-Id` when it is sane, else a
 * new UUID), sends it back, and logs one line per request with it.
 */
export function requestId(logger: Logger): Middleware {
  return async function requestIdMiddleware(ctx, next) {
    const given = ctx.get('x-request-id');
    const id = VALID_ID.test(given) ? given : randomUUID();
    ctx.state['requestId'] = id;
    ctx.set('X-Request-Id', id);
    const started = performance.now();
    try {
      await next();
    } finally {
      logger.log('http', 'request', {
        requestId: id,
        method: ctx.method,
        path: ctx.path,
        status: ctx.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      });
    }
  };
}
