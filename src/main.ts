import v8 from 'node:v8';
import { loadConfig } from './config/load-config.ts';
import { isAppError } from './errors.ts';
import { createLogger } from './logging/create-logger.ts';
import { startService } from './service.ts';

/**
 * Semi-space (young generation) size in MB for the thread serving HTTP and
 * uploads. V8's default (16) lets a streaming service hold ~48 MB of garbage per
 * thread before a scavenge; rows and upload chunks die young, so a small nursery
 * keeps RSS bounded at no measurable cost in throughput (see BENCHMARKS.md).
 */
const SEMI_SPACE_MB = 2;

/** Wiring only: config → logger → service → signals. */
async function main(): Promise<void> {
  v8.setFlagsFromString(`--max-semi-space-size=${SEMI_SPACE_MB}`);
  let config;
  try {
    config = loadConfig(process.env, { tty: process.stdout.isTTY });
  } catch (error) {
    process.stderr.write(`${isAppError(error) ? error.message : String(error)}\n`);
    process.exit(1);
  }
  const logger = createLogger({ level: config.log.level, format: config.log.format });
  const service = await startService(config, { logger });

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn('second signal: exiting at once', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('shutting down', { signal, timeoutMs: config.shutdownTimeoutMs });
    service.stop().then(
      () => logger.end(() => process.exit(0)),
      (error: unknown) => {
        logger.error('shutdown failed', { error: String(error) });
        logger.end(() => process.exit(1));
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((error: unknown) => {
  process.stderr.write(`s3-csv-ingest failed to start: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
