import type { S3Client } from '@aws-sdk/client-s3';
import type { Observable } from 'rxjs';
import type { Config } from './config/config.ts';
import { createPipelineRegistry } from './csv/create-pipeline-registry.ts';
import { loadPipelines } from './csv/load-pipelines.ts';
import { AppError } from './errors.ts';
import { createApp } from './http/create-app.ts';
import { listen } from './http/listen.ts';
import { fetchSnsUrl, type SnsFetch } from './http/sns/fetch-sns-url.ts';
import { createAcceptJobs } from './jobs/accept-jobs.ts';
import { createCancelJob } from './jobs/cancel-job.ts';
import { createReadinessCheck } from './jobs/check-readiness.ts';
import { createCsvWorkerPool } from './jobs/create-csv-worker-pool.ts';
import { createEmbeddedEventHandler, type EmbeddedEventHandler } from './jobs/create-embedded-event-handler.ts';
import { createOwnWrites } from './jobs/create-own-writes.ts';
import { createThreadedJobRunner } from './jobs/create-threaded-job-runner.ts';
import type { Job, JobLifecycleEvent, JobProgress, JobRunResult } from './jobs/job.ts';
import type { JobStore } from './jobs/job-store.ts';
import { openSharedJobStore } from './jobs/open-shared-job-store.ts';
import { createSqliteJobStore } from './jobs/sqlite-job-store.ts';
import { startJobEngine } from './jobs/start-job-engine.ts';
import { startPruning } from './jobs/start-pruning.ts';
import type { Logger } from './logging/create-logger.ts';
import { createMetrics } from './metrics/create-metrics.ts';
import { observeJobEvents } from './metrics/observe-job-events.ts';
import type { RunJob } from './pipeline/job-event.ts';
import { headSourceObject } from './storage/head-source-object.ts';
import { startStorage } from './storage/start-storage.ts';

export interface ServiceOptions {
  readonly logger: Logger;
  /** Runs one attempt of a job; default: the CSV job. Custom pipelines plug in here. */
  readonly runJob?: (deps: { s3: S3Client; config: Config; logger: Logger }) => RunJob<Job, JobProgress, JobRunResult>;
  /** Default: the embedded job store under DATA_DIR. */
  readonly store?: JobStore;
  /** Fetches SNS certificates and SubscribeURLs; default: global fetch. Specs serve their own certificate. */
  readonly snsFetch?: SnsFetch;
  /** In embedded mode, whether objects put into the input bucket start jobs (default true). */
  readonly embeddedS3Events?: boolean;
}

export interface Service {
  /** Base URL of the HTTP server. */
  readonly url: string;
  /** Endpoint of the S3 server in use (the embedded one unless S3_ENDPOINT is set). */
  readonly s3Endpoint: string;
  readonly s3: S3Client;
  /** The lifecycle stream of every job. */
  readonly events$: Observable<JobLifecycleEvent>;
  /** Stops accepting, lets running jobs finish within SHUTDOWN_TIMEOUT_MS, then closes everything. */
  stop(): Promise<void>;
}

/** The composition root: builds every part of the service from a validated config and starts it. */
export async function startService(config: Config, options: ServiceOptions): Promise<Service> {
  const { logger } = options;
  const definitions = await loadPipelines(config.pipelinesFile);
  const pipelines = createPipelineRegistry(definitions);
  // Set once jobs can be accepted: the embedded server's object events start jobs.
  let onEmbeddedEvent: EmbeddedEventHandler | undefined;
  const storage = await startStorage(config, {
    onEvent: (record) => onEmbeddedEvent?.(record),
    onRestart: (exit) =>
      logger.warn("the embedded S3 server's process ended; starting it again on the same port and data", { ...exit }),
  });
  if (storage.embedded !== undefined) {
    logger.info('embedded S3 server started', {
      endpoint: storage.endpoint,
      ...storage.embedded.credentials,
      buckets: storage.embeddedBuckets,
      directory: storage.embedded.directory,
    });
  }
  const { s3 } = storage;

  // With DATABASE_URL (and no store given), instances share one store, and claims fill the queue.
  const shared =
    options.store === undefined && config.databaseUrl !== undefined
      ? await openSharedJobStore(
          {
            url: config.databaseUrl,
            queueCapacity: config.jobs.queueCapacity,
            retryAfterSeconds: config.http.retryAfterSeconds,
          },
          logger,
        )
      : undefined;
  const store = options.store ?? shared ?? createSqliteJobStore({ dataDir: config.dataDir });
  const pool =
    options.runJob === undefined ? createCsvWorkerPool(config, definitions, storage.clientConfig) : undefined;
  const threaded = pool === undefined ? undefined : createThreadedJobRunner(pool);
  const metrics = createMetrics({
    queueDepth: () => engine.queue.size(),
    ...(shared === undefined ? {} : { clusterQueueDepth: () => shared.queued() }),
    instance: config.instanceId,
  });
  const engine = await startJobEngine(
    { ...config.jobs, runner: config.instanceId },
    {
      store,
      runJob: options.runJob?.({ s3, config, logger }) ?? threaded!,
      closeRunner: async () => {
        await threaded?.drain();
        await pool?.close();
      },
      ...(shared === undefined ? {} : { shared: { url: config.databaseUrl!, pool: shared.pool } }),
      observers: [(events$) => observeJobEvents(events$, metrics)],
      logger,
    },
  );
  const pruning = await startPruning(config.jobs, { store, logger });

  let accepting = true;
  const acceptJobs = createAcceptJobs({
    store,
    retryAfterSeconds: config.http.retryAfterSeconds,
    queue: engine.accepted,
    allowedBuckets: config.buckets.allowed,
    reservedPrefix: config.buckets.outputPrefix,
    headObject: (bucket, key, versionId) => headSourceObject(s3, bucket, key, versionId),
    resolvePipeline: (key, name) => pipelines.resolve(key, name),
    accepting: () => accepting,
  });
  const ownWrites = createOwnWrites();
  if (storage.embedded !== undefined && options.embeddedS3Events !== false) {
    onEmbeddedEvent = createEmbeddedEventHandler({
      acceptJobs,
      logger,
      inputBucket: config.buckets.input,
      outputBucket: config.buckets.output,
      outputPrefix: config.buckets.outputPrefix,
      ownWrites,
    });
  }
  const app = createApp({
    logger,
    apiToken: config.http.apiToken,
    listenHost: config.http.host,
    inputBucket: config.buckets.input,
    store,
    acceptJobs,
    cancelJob: createCancelJob({ store, queue: engine.queue }),
    openOutput: (job, name) => {
      if (job.output === null) throw new AppError('not_found', `The job ${job.id} has no outputs.`);
      const contentType = name === 'manifest' ? 'application/json' : 'application/x-ndjson';
      return storage.downloads.open(job.output.bucket, job.output[name], contentType);
    },
    uploads: {
      retryAfterSeconds: config.http.retryAfterSeconds,
      writer: storage.uploadWriter,
      bucket: config.buckets.input,
      maxBytes: config.uploads.maxBytes,
      reservedPrefix: config.buckets.outputPrefix,
      allowedBuckets: config.buckets.allowed,
      concurrency: config.uploads.concurrency,
      timeoutMs: config.uploads.timeoutMs,
      ownWrites,
      onCleanupError: (error, key) =>
        logger.error('could not remove an abandoned upload', {
          bucket: config.buckets.input,
          key,
          error: String(error),
        }),
    },
    snsFetch: options.snsFetch ?? fetchSnsUrl,
    snsTopicArns: config.http.snsTopicArns,
    events$: engine.shown$,
    eventStreams: { maxClients: config.http.sseMaxClients, retryAfterSeconds: config.http.retryAfterSeconds },
    metrics,
    metricsToken: config.http.metricsToken,
    accepting: () => accepting,
    readiness: createReadinessCheck({ store, accepting: () => accepting }),
  });
  const http = await listen(app, config.http);
  logger.info('listening', { url: http.url, s3Endpoint: storage.endpoint, concurrency: config.jobs.concurrency });

  return {
    url: http.url,
    s3Endpoint: storage.endpoint,
    s3,
    events$: engine.events$,
    async stop() {
      accepting = false;
      onEmbeddedEvent?.close();
      pruning.stop();
      await engine.drain(config.shutdownTimeoutMs);
      await http.close();
      await engine.close();
      await store.close();
      await storage.close();
    },
  };
}
