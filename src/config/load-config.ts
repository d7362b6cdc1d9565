import path from 'node:path';
import { AppError } from '../errors.ts';
import type { Config } from './config.ts';
import { envSchema } from './config-schema.ts';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

export interface LoadConfigOptions {
  /** Whether stdout is a terminal (pretty logs by default). */
  readonly tty?: boolean;
}

/**
 * Validates the environment once and returns the frozen configuration. A bad
 * value throws `config_invalid` with a message naming each variable at fault.
 */
export function loadConfig(env: NodeJS.ProcessEnv, options: LoadConfigOptions = {}): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`);
    throw new AppError('config_invalid', `Invalid configuration — ${problems.join('; ')}`, { details: problems });
  }
  const e = parsed.data;
  if (!isLoopback(e.HOST) && e.API_TOKEN === undefined && !e.ALLOW_UNAUTHENTICATED) {
    throw new AppError(
      'config_invalid',
      `Invalid configuration — HOST: ${e.HOST} is not a loopback address; set API_TOKEN, or ALLOW_UNAUTHENTICATED=true to serve it without authentication`,
    );
  }
  const config: Config = {
    http: {
      port: e.PORT,
      host: e.HOST,
      apiToken: e.API_TOKEN,
      metricsToken: e.METRICS_TOKEN,
      allowUnauthenticated: e.ALLOW_UNAUTHENTICATED,
      sseMaxClients: e.SSE_MAX_CLIENTS,
      retryAfterSeconds: e.RETRY_AFTER_SECONDS,
      snsTopicArns: e.SNS_TOPIC_ARNS,
    },
    s3: {
      endpoint: e.S3_ENDPOINT,
      embeddedPort: e.EMBEDDED_S3_PORT,
      forcePathStyle: e.S3_FORCE_PATH_STYLE ?? (e.S3_ENDPOINT === undefined ? true : undefined),
      region: e.AWS_REGION,
      checksums:
        e.S3_CHECKSUMS ??
        (e.S3_ENDPOINT === undefined || !/amazonaws\.com/.test(e.S3_ENDPOINT) ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED'),
      partSize: e.S3_PART_SIZE,
      queueSize: e.S3_QUEUE_SIZE,
      sse: e.S3_SSE === undefined ? undefined : { algorithm: e.S3_SSE, kmsKeyId: e.S3_SSE_KMS_KEY_ID },
    },
    buckets: {
      input: e.INPUT_BUCKET,
      output: e.OUTPUT_BUCKET ?? e.INPUT_BUCKET,
      outputPrefix: e.OUTPUT_PREFIX,
      allowed: e.ALLOWED_BUCKETS ?? [e.INPUT_BUCKET],
    },
    dataDir: path.resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    instanceId: e.INSTANCE_ID,
    jobs: {
      concurrency: e.JOB_CONCURRENCY,
      queueCapacity: e.QUEUE_CAPACITY,
      maxAttempts: e.JOB_MAX_ATTEMPTS,
      retryBaseMs: e.RETRY_BASE_MS,
      retryMaxMs: e.RETRY_MAX_MS,
      retentionDays: e.JOB_RETENTION_DAYS,
      leaseMs: e.JOB_LEASE_MS,
    },
    uploads: { maxBytes: e.UPLOAD_MAX_BYTES, concurrency: e.UPLOAD_CONCURRENCY, timeoutMs: e.UPLOAD_TIMEOUT_MS },
    csvMaxRecordBytes: e.CSV_MAX_RECORD_BYTES,
    workerThreads: e.WORKER_THREADS,
    csvBlockBytes: e.CSV_BLOCK_BYTES,
    pipelinesFile: e.PIPELINES_FILE,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT ?? (options.tty ? 'pretty' : 'json') },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
