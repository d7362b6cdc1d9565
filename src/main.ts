import { loadConfig } from './config/load-config.ts';
import { isAppError } from './errors.ts';
import { createLogger, type Logger } from './logging/create-logger.ts';
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
  const logger = createLogger({
    level: config.log.level,
    format: config.log.format,
    defaultMeta: { service: 's3-csv-ingest', instance: config.instanceId },
  });
  warnOnOldNode(logger);
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
      () => {
        logger.info('stopped', { signal });
        logger.end(() => process.exit(0));
      },
      (error: unknown) => {
        logger.error('shutdown failed', { error: String(error) });
        logger.end(() => process.exit(1));
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/**
 * The AWS SDK warns about Node < 22 in nine lines, from this thread and again from
 * every worker thread and child process (they inherit the environment set here).
 * One line instead, saying what to do.
 */
function warnOnOldNode(logger: Logger): void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= 22 || process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] === 'true') return;
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
  logger.warn(
    `Node.js ${process.versions.node} is past its end of life and AWS SDK releases from January 2027 need Node.js 22: run on Node.js 22 LTS (the Docker image does)`,
  );
}

main().catch((error: unknown) => {
  // A coded error (a bad PIPELINES_FILE, a port in use) is its own explanation; a stack is for the unexpected.
  const detail = isAppError(error)
    ? error.message
    : error instanceof Error
      ? (error.stack ?? error.message)
      : String(error);
  process.stderr.write(`s3-csv-ingest failed to start: ${detail}\n`);
  process.exit(1);
});
