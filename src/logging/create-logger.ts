import winston from 'winston';

export type Logger = winston.Logger;

export interface LoggerConfig {
  readonly level: string;
  /** `json`: one JSON object a line; `pretty`: coloured, readable lines for a terminal. */
  readonly format: 'json' | 'pretty';
  /** Where lines go; default stdout. Tests pass a stream they read. */
  readonly stream?: NodeJS.WritableStream;
  /** Fields on every line. */
  readonly defaultMeta?: Record<string, unknown>;
}

/** The service's winston logger; parts take `logger.child({ jobId })` for their own context. */
export function createLogger(config: LoggerConfig): Logger {
  const { level, format, stream = process.stdout, defaultMeta = { service: 's3-csv-ingest' } } = config;
  const formats =
    format === 'json'
      ? winston.format.combine(
          winston.format.timestamp(),
          winston.format.errors({ stack: false }),
          winston.format.json(),
        )
      : winston.format.combine(
          winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
          winston.format.errors({ stack: false }),
          winston.format.colorize(),
          winston.format.printf(({ timestamp, level: lvl, message, service: _service, ...rest }) => {
            const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
            return `${String(timestamp)} ${lvl} ${String(message)}${extra}`;
          }),
        );
  return winston.createLogger({
    level,
    format: formats,
    defaultMeta,
    transports: [new winston.transports.Stream({ stream })],
  });
}
