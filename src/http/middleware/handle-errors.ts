import type { Middleware } from 'koa';
import { AppError, toAppError, type ErrorCode } from '../../errors.ts';
import type { Logger } from '../../logging/create-logger.ts';

/** Statuses that body parsers and koa itself set (http-errors), mapped to our codes. */
const STATUS_CODES: Readonly<Record<number, ErrorCode>> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/**
 * The one error middleware: every error becomes the contract's JSON body
 * `{"error": {"code", "message", "details"?}}` with its status. Internal faults
 * are logged and answered with a generic message.
 */
export function handleErrors(logger: Logger): Middleware {
  return async function handleErrorsMiddleware(ctx, next) {
    try {
      await next();
      if (ctx.body === undefined) unanswered(ctx.status, ctx.method, ctx.path, ctx.response.get('Allow'));
    } catch (thrown) {
      const error = translate(thrown);
      const fields = { requestId: ctx.state['requestId'], method: ctx.method, path: ctx.path, code: error.code };
      // A fault of ours gets its stack; a refusal the service means (shutting down, busy, S3 away) one line.
      if (!error.expose) logger.error('request failed', { ...fields, error: errorDetail(thrown) });
      else if (error.status >= 500) logger.warn('request refused', { ...fields, error: error.message });
      if (ctx.headerSent || !ctx.writable) return;
      ctx.status = error.status;
      for (const [name, value] of Object.entries(error.headers ?? {})) ctx.set(name, value);
      ctx.body = {
        error: {
          code: error.code,
          message: error.expose ? error.message : 'An internal error occurred; it has been logged.',
          ...(error.details === undefined ? {} : { details: error.details }),
        },
      };
    }
  };
}

/**
 * A request no route answered: the routers leave 404, or, through
 * `allowedMethods`, 405 (the path is a route, not for this method) or 501 (a
 * method no router implements) with the route's methods in `Allow`. 501 has no
 * code of its own: on a route it is a method the route does not allow, elsewhere
 * there is no route.
 */
function unanswered(status: number, method: string, path: string, allow: string): void {
  if (status !== 404 && status !== 405 && status !== 501) return;
  if (status === 404 || allow === '') throw new AppError('not_found', `No route for ${method} ${path}.`);
  throw new AppError('method_not_allowed', `${path} does not answer ${method}; it answers ${allow}.`, {
    headers: { Allow: allow },
  });
}

function translate(thrown: unknown): AppError {
  if (thrown instanceof AppError) return thrown;
  const status =
    typeof (thrown as { status?: unknown })?.status === 'number' ? (thrown as { status: number }).status : 500;
  const type = (thrown as { type?: unknown })?.type;
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  if (type === 'entity.parse.failed' || (status === 400 && thrown instanceof SyntaxError))
    return new AppError('invalid_json', `The request body is not valid JSON (${message.replace(/\.$/, '')}).`, {
      cause: thrown,
    });
  if (status === 413)
    return new AppError('payload_too_large', 'The request body is larger than the limit for this endpoint.', {
      cause: thrown,
    });
  const code = STATUS_CODES[status];
  if (code !== undefined) return new AppError(code, message, { cause: thrown });
  return toAppError(thrown);
}

function errorDetail(thrown: unknown): unknown {
  return thrown instanceof Error ? { name: thrown.name, message: thrown.message, stack: thrown.stack } : thrown;
}
