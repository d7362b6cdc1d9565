import type { Middleware } from 'koa';
import { AppError } from '../../errors.ts';

/** The names a browser on this machine uses for a service on loopback. */
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Refuses (403) a request whose `Host` is not `localhost`, `127.0.0.1` or
 * `[::1]`, bare or with the port the connection came in on. Against DNS
 * rebinding: a page at `evil.example` whose name later resolves to 127.0.0.1
 * reaches the service from the operator's browser as same-origin, but its
 * requests still say `Host: evil.example`.
 */
export function requireLoopbackHost(): Middleware {
  return async function requireLoopbackHostMiddleware(ctx, next) {
    const host = ctx.get('host').toLowerCase();
    if (!isLoopbackHost(host, ctx.req.socket.localPort)) {
      throw new AppError(
        'forbidden',
        `The Host ${host === '' ? '(none)' : JSON.stringify(host)} is not this service's; without API_TOKEN it answers only localhost, 127.0.0.1 and [::1].`,
      );
    }
    await next();
  };
}

function isLoopbackHost(host: string, port: number | undefined): boolean {
  const colon = host.lastIndexOf(':');
  // `[::1]` alone has colons but no port: a port follows the closing bracket.
  if (colon < 0 || colon < host.lastIndexOf(']')) return LOOPBACK_NAMES.has(host);
  return LOOPBACK_NAMES.has(host.slice(0, colon)) && host.slice(colon + 1) === String(port);
}
