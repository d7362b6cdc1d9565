import os from 'node:os';
import { z } from 'zod';
import { DEFAULT_RETRY_AFTER_SECONDS } from './config.ts';

const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ error: (issue) => (issue.code === 'invalid_type' ? 'expected a whole number' : undefined) })
    .int({ message: 'expected a whole number' })
    .min(min, { message: `must be at least ${min}` })
    .max(max, { message: `must be at most ${max}` });

const blankToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

const optionalString = z.preprocess(blankToUndefined, z.string().optional());

const commaList = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((part) => part.trim())
            .filter((part) => part !== '')
        : value,
    z.array(item).min(1, { message: 'expected at least one comma-separated value' }),
  );

const bucketName = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
  message: 'expected an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)',
});

/**
 * The environment, as the contract's configuration table names it. Parsed once
 * at start by `loadConfig`; every default lives here.
 */
export const envSchema = z
  .object({
    PORT: int(0, 65535).default(8080),
    HOST: z.string().min(1).default('127.0.0.1'),
    API_TOKEN: optionalString,
    ALLOW_UNAUTHENTICATED: boolean.default(false),
    METRICS_TOKEN: optionalString,
    S3_ENDPOINT: z.preprocess(
      blankToUndefined,
      z.url({ message: 'expected a URL such as http://127.0.0.1:9000' }).optional(),
    ),
    EMBEDDED_S3_PORT: int(0, 65535).default(4568),
    S3_FORCE_PATH_STYLE: z.preprocess(blankToUndefined, boolean.optional()),
    S3_CHECKSUMS: z.enum(['WHEN_SUPPORTED', 'WHEN_REQUIRED']).optional(),
    AWS_REGION: z.string().min(1).default('us-east-1'),
    INPUT_BUCKET: bucketName.default('ingest'),
    OUTPUT_BUCKET: z.preprocess(blankToUndefined, bucketName.optional()),
    OUTPUT_PREFIX: z.string().default('processed/'),
    ALLOWED_BUCKETS: z.preprocess(blankToUndefined, commaList(bucketName).optional()),
    SNS_TOPIC_ARNS: z.preprocess(
      blankToUndefined,
      commaList(
        z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/, {
          message: 'expected SNS topic ARNs (arn:aws:sns:<region>:<account>:<topic>)',
        }),
      ).optional(),
    ),
    SSE_MAX_CLIENTS: int(1, 100_000).default(100),
    RETRY_AFTER_SECONDS: int(1, 86_400).default(DEFAULT_RETRY_AFTER_SECONDS),
    UPLOAD_CONCURRENCY: int(1, 10_000).default(16),
    UPLOAD_TIMEOUT_MS: int(1000).default(3_600_000),
    S3_SSE: z.preprocess(
      blankToUndefined,
      z.enum(['AES256', 'aws:kms'], { message: 'expected AES256 or aws:kms' }).optional(),
    ),
    S3_SSE_KMS_KEY_ID: optionalString,
    DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_URL: z.preprocess(
      blankToUndefined,
      z
        .string()
        .regex(/^postgres(ql)?:\/\/\S+$/, { message: 'expected a postgres://… URL' })
        .optional(),
    ),
    INSTANCE_ID: z
      .string()
      .regex(/^[\x21-\x7e]{1,128}$/, { message: 'expected 1 to 128 printable characters without spaces' })
      .default(() => `${os.hostname()}-${process.pid}`),
    JOB_LEASE_MS: int(1000, 86_400_000).default(30_000),
    JOB_CONCURRENCY: int(1, 256).default(() => Math.max(1, os.availableParallelism())),
    QUEUE_CAPACITY: int(1, 10_000_000).default(1000),
    JOB_MAX_ATTEMPTS: int(1, 100).default(3),
    RETRY_BASE_MS: int(0).default(1000),
    RETRY_MAX_MS: int(0).default(30_000),
    UPLOAD_MAX_BYTES: int(1).default(5_368_709_120),
    S3_PART_SIZE: int(5 * 1024 * 1024, 5 * 1024 * 1024 * 1024).default(8_388_608),
    S3_QUEUE_SIZE: int(1, 64).default(4),
    CSV_MAX_RECORD_BYTES: int(16, 1024 * 1024 * 1024).default(1_048_576),
    WORKER_THREADS: int(1, 256).default(() => Math.max(1, os.availableParallelism())),
    CSV_BLOCK_BYTES: int(0, 1024 * 1024 * 1024)
      .default(8_388_608)
      .refine((bytes) => bytes === 0 || bytes >= 65_536, { message: 'expected 0 (no splitting) or at least 65536' }),
    PIPELINES_FILE: optionalString,
    SHUTDOWN_TIMEOUT_MS: int(0).default(30_000),
    JOB_RETENTION_DAYS: int(0).default(30),
    LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
    LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  })
  .refine((env) => env.RETRY_MAX_MS >= env.RETRY_BASE_MS, {
    path: ['RETRY_MAX_MS'],
    message: 'must be at least RETRY_BASE_MS',
  })
  // S3 takes at most 10,000 parts: an upload that could need more fails up front, not after gigabytes.
  .refine((env) => env.UPLOAD_MAX_BYTES <= 10_000 * env.S3_PART_SIZE, {
    path: ['UPLOAD_MAX_BYTES'],
    message:
      'needs more than 10,000 parts of S3_PART_SIZE (S3 takes at most 10,000); raise S3_PART_SIZE or lower UPLOAD_MAX_BYTES',
  })
  .refine((env) => env.DATABASE_URL === undefined || env.S3_ENDPOINT !== undefined, {
    path: ['DATABASE_URL'],
    message:
      'a job store shared by several instances needs S3 they all reach: set S3_ENDPOINT too (the embedded S3 server belongs to one instance)',
  })
  .refine((env) => env.S3_SSE_KMS_KEY_ID === undefined || env.S3_SSE === 'aws:kms', {
    path: ['S3_SSE_KMS_KEY_ID'],
    message: 'a KMS key needs S3_SSE=aws:kms',
  });

export type Env = z.infer<typeof envSchema>;
