import { loadConfig } from './config/load-config.ts';
import { isAppError } from './errors.ts';
import { createLogger } from './logging/create-logger.ts';
import { startService } from './service.ts';

/** Wiring only: config → logger → service → signals. */
async function main(): Promise<void> {
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
