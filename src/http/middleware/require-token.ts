import { createHash, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import { AppError } from '../../errors.ts';

/**
 * Requires `Authorization: Bearer <token>` when a token is configured. Both sides
 * are hashed first so the comparison is constant-time whatever their lengths.
 */
export function requireToken(token: string | undefined, realm = 's3-csv-ingest'): Middleware {
  const expected = token === undefined ? undefined : digest(token);
  return async function requireTokenMiddleware(ctx, next) {
    if (expected !== undefined) {
      const header = ctx.get('authorization');
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      const given = match?.[1];
      if (given === undefined || !timingSafeEqual(digest(given), expected)) {
        throw new AppError('unauthorized', given === undefined
          ? 'This endpoint needs an Authorization: Bearer <token> header.'
          : 'The bearer token is not valid.', { headers: { 'WWW-Authenticate': `Bearer realm="${realm}"` } });
      }
    }
    await next();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
