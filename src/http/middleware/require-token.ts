import { createHash, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import { AppError } from '../../errors.ts';

/**
 * Requires the token when one is configured: `Authorization: Bearer <token>`, or
 * HTTP Basic with the token as the password (any user name) — what an SNS HTTPS
 * subscription sends for `https://user:<token>@host/v1/trigger`, since SNS cannot
 * send a bearer header. Both sides are hashed first so the comparison is
 * constant-time whatever their lengths.
 */
export function requireToken(token: string | undefined, realm = 's3-csv-ingest'): Middleware {
  const expected = token === undefined ? undefined : digest(token);
  return async function requireTokenMiddleware(ctx, next) {
    if (expected !== undefined) {
      const given = presentedToken(ctx.get('authorization'));
      if (given === undefined || !timingSafeEqual(digest(given), expected)) {
        throw new AppError(
          'unauthorized',
          given === undefined
            ? 'This endpoint needs an Authorization: Bearer <token> header.'
            : 'The bearer token is not valid.',
          { headers: { 'WWW-Authenticate': `Bearer realm="${realm}"` } },
        );
      }
    }
    await next();
  };
}

function presentedToken(header: string): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  if (!basic) return undefined;
  const credentials = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = credentials.indexOf(':');
  return colon < 0 ? undefined : credentials.slice(colon + 1);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
