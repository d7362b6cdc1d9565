import type { Middleware } from 'koa';
import { koaBody } from 'koa-body';
import { AppError } from '../../errors.ts';

export interface ReadJsonBodyOptions {
  /** Largest body read, in bytes; past it `payload_too_large` (413). */
  readonly limitBytes: number;
}

/** Content types read as JSON text: JSON itself, and `text/plain` (SNS sends its JSON so). */
const TYPES = ['application/json', 'application/*+json', 'text/plain'];

/**
 * Reads a JSON body sent as `application/json` (up to the limit) and parses it
 * into `ctx.state.body`. `text/plain` is read only from SNS, which sends its JSON
 * so with an `x-amz-sns-message-type` header; any other `text/plain` body is
 * `unsupported_media_type` before it is read, since it is what a page of another
 * site may send without a preflight. Malformed JSON is `invalid_json`, another
 * content type `unsupported_media_type`, no body at all `validation_failed`.
 */
export function readJsonBody(options: ReadJsonBodyOptions): Middleware {
  const read = koaBody({
    json: false,
    urlencoded: false,
    multipart: false,
    text: true,
    textTypes: TYPES,
    textLimit: options.limitBytes,
    encoding: 'utf-8',
  });
  return async function readJsonBodyMiddleware(ctx, next) {
    if (ctx.is('text/plain') !== false && ctx.get('x-amz-sns-message-type') === '') {
      throw new AppError(
        'unsupported_media_type',
        'The body is text/plain, accepted only from SNS (with an x-amz-sns-message-type header); send JSON as application/json.',
      );
    }
    try {
      await read(ctx, async () => undefined);
    } catch (error) {
      if ((error as { status?: unknown }).status === 413) {
        throw new AppError(
          'payload_too_large',
          `The request body is larger than ${describeBytes(options.limitBytes)}, the limit for ${ctx.method} ${ctx.path}; nothing was read past it.`,
          { cause: error },
        );
      }
      throw error;
    }
    const raw: unknown = ctx.request.body;
    if (typeof raw !== 'string') {
      const length = ctx.get('content-length');
      if (ctx.request.type === '' && (length === '' || length === '0') && ctx.get('transfer-encoding') === '') {
        throw new AppError(
          'validation_failed',
          'The request has no body; send the trigger as JSON (Content-Type: application/json).',
        );
      }
      throw new AppError(
        'unsupported_media_type',
        `The body is ${ctx.request.type || 'of no declared type'}; send JSON as application/json (text/plain is accepted for SNS).`,
      );
    }
    try {
      ctx.state['body'] = JSON.parse(raw) as unknown;
    } catch (error) {
      throw new AppError(
        'invalid_json',
        `The request body is not valid JSON (${(error as Error).message.replace(/\.$/, '')}).`,
        { cause: error },
      );
    }
    await next();
  };
}

function describeBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return Number.isInteger(mib) ? `${mib} MiB (${bytes} bytes)` : `${bytes} bytes`;
}
