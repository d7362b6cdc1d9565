import { PassThrough } from 'node:stream';
import { createLogger, type Logger } from '../../src/logging/create-logger.ts';

/** A JSON logger at `debug` whose lines are kept, parsed, in `lines`. */
export function captureLogs(): { logger: Logger; lines: Record<string, unknown>[] } {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) =>
    chunk
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .forEach((line) => lines.push(JSON.parse(line) as Record<string, unknown>)),
  );
  return { logger: createLogger({ level: 'debug', format: 'json', stream }), lines };
}
