/** The service's configuration: the validated environment, shaped for its parts. Frozen. */
export interface Config {
  readonly http: {
    readonly port: number;
    readonly host: string;
    readonly apiToken: string | undefined;
    readonly metricsToken: string | undefined;
    readonly allowUnauthenticated: boolean;
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
  };
  readonly buckets: {
    readonly input: string;
    readonly output: string;
    readonly outputPrefix: string;
  };
  readonly dataDir: string;
  readonly jobs: {
    readonly concurrency: number;
    readonly queueCapacity: number;
    readonly maxAttempts: number;
    readonly retryBaseMs: number;
    readonly retryMaxMs: number;
    readonly retentionDays: number;
  };
  readonly uploadMaxBytes: number;
  readonly csvMaxRecordBytes: number;
  readonly pipelinesFile: string | undefined;
  readonly shutdownTimeoutMs: number;
  readonly log: {
    readonly level: string;
    readonly format: 'json' | 'pretty';
  };
}
