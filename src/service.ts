import type { S3Client } from '@aws-sdk/client-s3';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { firstValueFrom, merge, Subject, type Observable, type Subscription } from 'rxjs';
import type { Config } from './config/config.ts';
import { createPipelineRegistry } from './csv/create-pipeline-registry.ts';
import { loadPipelines } from './csv/load-pipelines.ts';
import { AppError } from './errors.ts';
import { createApp } from './http/create-app.ts';
import { fetchSnsUrl, type SnsFetch } from './http/sns/fetch-sns-url.ts';
import { createEmbeddedEventHandler, type EmbeddedEventHandler } from './jobs/create-embedded-event-handler.ts';
import { createOwnWrites } from './jobs/create-own-writes.ts';
import { createAcceptJobs } from './jobs/accept-jobs.ts';
import { createCancelJob } from './jobs/cancel-job.ts';
import { createThreadedJobRunner } from './jobs/create-threaded-job-runner.ts';
import type { Job, JobLifecycleEvent, JobProgress, JobRunResult } from './jobs/job.ts';
import type { JobStore } from './jobs/job-store.ts';
import { openSharedJobStore } from './jobs/open-shared-job-store.ts';
import { createCsvWorkerPool } from './jobs/create-csv-worker-pool.ts';
import { startClaimFeed } from './jobs/start-claim-feed.ts';
import { recoverJobs } from './jobs/recover-jobs.ts';
import { createSqliteJobStore } from './jobs/sqlite-job-store.ts';
import { trackRunningJobs } from './jobs/track-running-jobs.ts';
import { recordJobEvents } from './jobs/record-job-events.ts';
import { reportJobFailures } from './jobs/report-job-failures.ts';
import type { Logger } from './logging/create-logger.ts';
import { createMetrics } from './metrics/create-metrics.ts';
import { observeJobEvents } from './metrics/observe-job-events.ts';
import { backoff } from './pipeline/backoff.ts';
import type { RunJob } from './pipeline/job-event.ts';
import { createJobQueue } from './pipeline/job-queue.ts';
import { processJobs } from './pipeline/process-jobs.ts';
import { createS3Client, type S3ClientConfig } from './storage/create-s3-client.ts';
import { startEmbeddedS3, type EmbeddedS3 } from './storage/embedded-s3.ts';
import { createObjectWriter } from './storage/create-object-writer.ts';
import { headSourceObject } from './storage/head-source-object.ts';
import { createOutputDownloads } from './storage/create-output-downloads.ts';

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

/** Builds and starts every part of the service from a validated config. */
export async function startService(config: Config, options: ServiceOptions): Promise<Service> {
  const { logger } = options;
  const definitions = await loadPipelines(config.pipelinesFile);
  const pipelines = createPipelineRegistry(definitions);
  let embedded: EmbeddedS3 | undefined;
  // Set once jobs can be accepted: the embedded server's object events start jobs.
  let onEmbeddedEvent: EmbeddedEventHandler | undefined;
  if (config.s3.endpoint === undefined) {
    embedded = await startEmbeddedS3({
      onEvent: (record) => onEmbeddedEvent?.(record),
      onRestart: (exit) =>
        logger.warn("the embedded S3 server's process ended; starting it again on the same port and data", { ...exit }),
      port: config.s3.embeddedPort,
      directory: path.join(config.dataDir, 's3'),
      buckets: [...new Set([config.buckets.input, config.buckets.output, ...config.buckets.allowed])],
    });
    logger.info('embedded S3 server started', {
      endpoint: embedded.endpoint,
      accessKeyId: embedded.credentials.accessKeyId,
      secretAccessKey: embedded.credentials.secretAccessKey,
      buckets: [...new Set([config.buckets.input, config.buckets.output, ...config.buckets.allowed])],
      directory: embedded.directory,
    });
  }
  const s3Endpoint = embedded?.endpoint ?? config.s3.endpoint ?? '';
  const s3Config: S3ClientConfig = {
    endpoint: s3Endpoint,
    region: config.s3.region,
    forcePathStyle: config.s3.forcePathStyle,
    checksums: config.s3.checksums,
    ...(embedded ? { credentials: embedded.credentials } : {}),
  };
  const s3 = createS3Client({ ...s3Config, maxSockets: Math.max(16, config.s3.queueSize * 2 + 8) });
  // Downloads on their own sockets: clients that stop reading cannot starve HEAD checks and uploads.
  const downloads = createOutputDownloads({ s3: s3Config });

  // With DATABASE_URL (and no store given), instances share one store, and claims fill the queue.
  const shared =
    options.store === undefined && config.databaseUrl !== undefined
      ? await openSharedJobStore(config.databaseUrl, logger)
      : undefined;
  const store = options.store ?? shared ?? createSqliteJobStore({ dataDir: config.dataDir });
  const queue = createJobQueue<Job>({ capacity: config.jobs.queueCapacity });
  const events = new Subject<JobLifecycleEvent>();
  const running = trackRunningJobs(events);
  const subscriptions: Subscription[] = [
    recordJobEvents(events, {
      store,
      runner: config.instanceId,
      onWriteError: (error, event) =>
        logger.error('could not record a job event', { jobId: event.job.id, type: event.type, error: String(error) }),
    }),
    reportJobFailures(events, { store, logger }),
  ];
  const metrics = createMetrics({ queueDepth: () => queue.size() });
  subscriptions.push(observeJobEvents(events, metrics));
  const pool = options.runJob === undefined ? createCsvWorkerPool(config, definitions, s3Config) : undefined;
  const threaded = pool === undefined ? undefined : createThreadedJobRunner(pool);
  const runJob = options.runJob?.({ s3, config, logger }) ?? threaded!;
  const pipeline = merge(
    queue.events$,
    processJobs(queue, runJob, {
      concurrency: config.jobs.concurrency,
      maxAttempts: config.jobs.maxAttempts,
      backoff: backoff({ baseMs: config.jobs.retryBaseMs, maxMs: config.jobs.retryMaxMs }),
      priorAttempts: (job) => job.attempts,
    }),
  ).subscribe(events);

  const claimFeed =
    shared === undefined
      ? undefined
      : startClaimFeed(
          {
            url: config.databaseUrl!,
            runner: config.instanceId,
            leaseMs: config.jobs.leaseMs,
            concurrency: config.jobs.concurrency,
          },
          { pool: shared.pool, queue, events$: events, logger },
        );
  if (claimFeed === undefined) {
    const recovered = await recoverJobs(store, queue);
    if (recovered.requeued > 0) logger.info('jobs recovered from the last run', recovered);
  }
  const prune = async () => {
    const before = new Date(Date.now() - config.jobs.retentionDays * 86_400_000);
    const pruned = await store.prune(before).catch((error: unknown) => {
      logger.error('pruning old jobs failed', { error: String(error) });
      return 0;
    });
    if (pruned > 0) logger.info('old jobs pruned', { pruned, finishedBefore: before.toISOString() });
  };
  await prune();
  const pruneTimer = setInterval(() => void prune(), 3_600_000).unref();

  let accepting = true;
  const acceptJobs = createAcceptJobs({
    store,
    // Shared: stored jobs wait for a claim (this instance's or another's), not for this queue.
    queue: claimFeed === undefined ? queue : { enqueue: () => claimFeed.wake(), free: () => queue.free() },
    allowedBuckets: config.buckets.allowed,
    reservedPrefix: config.buckets.outputPrefix,
    headObject: (bucket, key, versionId) => headSourceObject(s3, bucket, key, versionId),
    resolvePipeline: (key, name) => {
      if (name === undefined) return pipelines.forKey(key).name;
      if (pipelines.byName(name) === undefined) {
        throw new AppError(
          'unknown_pipeline',
          `There is no pipeline named "${name}"; defined: ${pipelines.names().join(', ')}.`,
        );
      }
      return name;
    },
    accepting: () => accepting,
  });
  const ownWrites = createOwnWrites();
  if (embedded !== undefined && options.embeddedS3Events !== false) {
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
    cancelJob: createCancelJob({ store, queue }),
    openOutput: (job, name) => {
      if (job.output === null) throw new AppError('not_found', `The job ${job.id} has no outputs.`);
      return downloads.open(
        job.output.bucket,
        job.output[name],
        name === 'manifest' ? 'application/json' : 'application/x-ndjson',
      );
    },
    uploads: {
      writer: createObjectWriter(s3, {
        bucket: config.buckets.input,
        partSize: config.s3.partSize,
        queueSize: config.s3.queueSize,
        sse: config.s3.sse,
      }),
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
    events$: events.asObservable(),
    eventStreams: { maxClients: config.http.sseMaxClients },
    metrics,
    metricsToken: config.http.metricsToken,
    accepting: () => accepting,
    readiness: async () => {
      const problems: string[] = [];
      if (!accepting) problems.push('The service is shutting down.');
      if (!(await store.ping().catch(() => false))) problems.push('The job store does not answer.');
      return { ready: problems.length === 0, problems };
    },
  });

  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(config.http.port, config.http.host, () => resolve(listening));
    listening.once('error', reject);
  });
  server.requestTimeout = 0; // uploads may stream for a long time; idle sockets still time out.
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info('listening', { url, s3Endpoint, concurrency: config.jobs.concurrency });

  return {
    url,
    s3Endpoint,
    s3,
    events$: events.asObservable(),
    async stop() {
      accepting = false;
      onEmbeddedEvent?.close();
      claimFeed?.stop();
      queue.hold();
      clearInterval(pruneTimer);
      const drained = await running.idle(config.shutdownTimeoutMs);
      // Still running past the grace period: unsubscribing destroys their streams and
      // aborts their uploads; they go back to queued for the next start.
      const cut = drained ? [] : [...(await firstValueFrom(running.running$))];
      pipeline.unsubscribe();
      await threaded?.drain();
      await pool?.close();
      for (const id of cut) await store.update(id, { status: 'queued' }).catch(() => undefined);
      if (cut.length > 0)
        logger.warn('jobs still running at the end of the grace period were stopped and left queued', { jobIds: cut });
      queue.close();
      // The lifecycle stream ends here, which also ends open event streams (SSE) cleanly.
      events.complete();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 1_000).unref();
      });
      for (const subscription of subscriptions) subscription.unsubscribe();
      await claimFeed?.close();
      s3.destroy();
      downloads.close();
      await store.close();
      await embedded?.close();
    },
  };
}
