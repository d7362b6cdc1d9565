import type { Middleware } from 'koa';
import { AppError } from '../../errors.ts';

/** Methods that change state; a page may send them cross-site without a preflight (`mode: 'no-cors'`, a form). */
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Refuses (403) a state-changing request that a browser marks as coming from
 * another site: `Sec-Fetch-Site: cross-site` or `same-site` (another port of
 * the same host is another origin), or an `Origin` that is not the service's
 * own (`null` included). A client that is not a browser sends neither header
 * and is not concerned; the dashboard, served from the service itself, sends
 * `same-origin`.
 */
export function refuseCrossSite(): Middleware {
  return async function refuseCrossSiteMiddleware(ctx, next) {
    if (STATE_CHANGING.has(ctx.method)) {
      const site = ctx.get('sec-fetch-site').toLowerCase();
      if (site === 'cross-site' || site === 'same-site') {
        throw new AppError(
          'forbidden',
          `A ${ctx.method} from another site (Sec-Fetch-Site: ${site}) is refused; without API_TOKEN only the service's own pages may change anything.`,
        );
      }
      const origin = ctx.get('origin');
      const own = originOf(`${ctx.protocol}://${ctx.get('host')}`);
      if (origin !== '' && (own === undefined || originOf(origin) !== own)) {
        throw new AppError(
          'forbidden',
          `A ${ctx.method} from the origin ${JSON.stringify(origin)} is refused; without API_TOKEN only the service's own origin may change anything.`,
        );
      }
    }
    await next();
  };
}

/** `scheme://host:port` as a browser writes it in `Origin` (default port dropped, name in lower case); `null` and garbage: none. */
function originOf(url: string): string | undefined {
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}
