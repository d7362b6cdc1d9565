/** `RETRY_AFTER_SECONDS` unset; also what a part asks for when it is built without the config's value. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/** The service's configuration: the validated environment, shaped for its parts. Frozen. */
export interface Config {
  readonly http: {
    readonly port: number;
    readonly host: string;
    readonly apiToken: string | undefined;
    readonly metricsToken: string | undefined;
    readonly allowUnauthenticated: boolean;
    /** Open Server-Sent Event streams at most; past it `503`. */
    readonly sseMaxClients: number;
    /** `Retry-After` of every answer that asks a client to come back (`429`, `503`), s. */
    readonly retryAfterSeconds: number;
    /** SNS topics whose deliveries are accepted; unset: any topic. */
    readonly snsTopicArns: readonly string[] | undefined;
  };
  readonly s3: {
    /** Unset: the embedded S3 server is started. */
    readonly endpoint: string | undefined;
    readonly embeddedPort: number;
    readonly forcePathStyle: boolean | undefined;
    readonly region: string;
    readonly checksums: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
    readonly partSize: number;
    readonly queueSize: number;
    /** Server-side encryption of every object the service writes; unset: the bucket's default. */
    readonly sse: { readonly algorithm: 'AES256' | 'aws:kms'; readonly kmsKeyId: string | undefined } | undefined;
  };
  readonly buckets: {
    readonly input: string;
    readonly output: string;
    readonly outputPrefix: string;
    /** Buckets that triggers and uploads may name (default: the input bucket alone). */
    readonly allowed: readonly string[];
  };
  readonly dataDir: string;
  /** `DATABASE_URL`: the PostgreSQL job store shared by instances; unset: SQLite under `dataDir`. */
  readonly databaseUrl: string | undefined;
  /** This instance's name in `runner`, logs and metrics. */
  readonly instanceId: string;
  readonly jobs: {
    readonly concurrency: number;
    readonly queueCapacity: number;
    readonly maxAttempts: number;
    readonly retryBaseMs: number;
    readonly retryMaxMs: number;
    readonly retentionDays: number;
    /** How long a running job stays claimed by an instance that stopped renewing it. */
    readonly leaseMs: number;
  };
  readonly uploads: {
    readonly maxBytes: number;
    /** Uploads at once; past it `503`. */
    readonly concurrency: number;
    /** The longest an upload may take. */
    readonly timeoutMs: number;
  };
  readonly csvMaxRecordBytes: number;
  /** `WORKER_THREADS`: the parse threads every job shares. */
  readonly workerThreads: number;
  /** `CSV_BLOCK_BYTES`: 0 parses each object in one pass. */
  readonly csvBlockBytes: number;
  readonly pipelinesFile: string | undefined;
  readonly shutdownTimeoutMs: number;
  readonly log: {
    readonly level: string;
    readonly format: 'json' | 'pretty';
  };
}
