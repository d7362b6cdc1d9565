import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface MetricsOptions {
  /** Jobs waiting to start, read at each scrape (the queue's size). */
  readonly queueDepth: () => number;
  /**
   * Jobs queued in the job store, for the whole cluster when it is shared (read at each scrape); default:
   * `queueDepth`. A failed read (the store unreachable) shows as NaN rather than failing the scrape.
   */
  readonly clusterQueueDepth?: () => number | Promise<number>;
  /** `INSTANCE_ID`: the `instance` label of every metric, so the instances of a cluster can be told apart. */
  readonly instance?: string;
  /** Prefix of every metric name of the service. Default `s3_csv_ingest_`. */
  readonly prefix?: string;
  /** Whether to add prom-client's default process and Node.js metrics. Default true. */
  readonly defaultMetrics?: boolean;
}

/** The service's metrics, in a registry of their own (no global default registry). */
export interface Metrics {
  readonly registry: Registry;
  readonly jobsAccepted: Counter<'trigger'>;
  readonly jobsFinished: Counter<'status'>;
  readonly jobsRunning: Gauge;
  readonly jobFailures: Counter<'code'>;
  readonly jobRetries: Counter<'code'>;
  readonly jobDuration: Histogram<'status'>;
  readonly jobQueueWait: Histogram;
  readonly rowsProcessed: Counter;
  readonly rowsRejected: Counter;
  readonly bytesRead: Counter;
  readonly uploads: Counter;
  readonly uploadBytes: Counter;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly eventStreamClients: Gauge;
}

/**
 * Creates the registry and every metric of the service. Job metrics are fed by
 * `observeJobEvents`, HTTP ones by `measureHttp`; the queue depth is read when
 * Prometheus scrapes.
 */
export function createMetrics(options: MetricsOptions): Metrics {
  const {
    queueDepth,
    clusterQueueDepth = queueDepth,
    instance,
    prefix = 's3_csv_ingest_',
    defaultMetrics = true,
  } = options;
  const registry = new Registry();
  // Before any metric is made, so that default process metrics carry it too.
  if (instance !== undefined) registry.setDefaultLabels({ instance });
  if (defaultMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  new Gauge({
    name: `${prefix}queue_depth`,
    help: 'Jobs waiting in the queue to start.',
    registers,
    collect() {
      this.set(queueDepth());
    },
  });
  new Gauge({
    name: `${prefix}cluster_queue_depth`,
    help: 'Jobs queued in the job store, waiting for any instance (with the embedded store: this instance).',
    registers,
    async collect() {
      this.set(
        await Promise.resolve()
          .then(clusterQueueDepth)
          .catch(() => Number.NaN),
      );
    },
  });

  return {
    registry,
    jobsAccepted: new Counter({
      name: `${prefix}jobs_accepted_total`,
      help: 'Jobs queued, by trigger.',
      labelNames: ['trigger'],
      registers,
    }),
    jobsFinished: new Counter({
      name: `${prefix}jobs_finished_total`,
      help: 'Jobs finished, by final status.',
      labelNames: ['status'],
      registers,
    }),
    jobsRunning: new Gauge({
      name: `${prefix}jobs_running`,
      help: 'Jobs started and not finished (a job waiting to retry counts).',
      registers,
    }),
    jobFailures: new Counter({
      name: `${prefix}job_failures_total`,
      help: 'Jobs failed, by error code.',
      labelNames: ['code'],
      registers,
    }),
    jobRetries: new Counter({
      name: `${prefix}job_retries_total`,
      help: 'Job attempts that failed and were retried, by error code.',
      labelNames: ['code'],
      registers,
    }),
    jobDuration: new Histogram({
      name: `${prefix}job_duration_seconds`,
      help: "Time from a job's first start to its end (retries and backoff included), by final status.",
      labelNames: ['status'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    }),
    jobQueueWait: new Histogram({
      name: `${prefix}job_queue_wait_seconds`,
      help: "Time from a job's acceptance to its first start.",
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    }),
    rowsProcessed: new Counter({
      name: `${prefix}rows_processed_total`,
      help: 'CSV records read and written as rows (every attempt counts).',
      registers,
    }),
    rowsRejected: new Counter({
      name: `${prefix}rows_rejected_total`,
      help: 'CSV records rejected (every attempt counts).',
      registers,
    }),
    bytesRead: new Counter({
      name: `${prefix}bytes_read_total`,
      help: 'Bytes of source objects read (every attempt counts).',
      registers,
    }),
    uploads: new Counter({ name: `${prefix}uploads_total`, help: 'Files stored through POST /v1/uploads.', registers }),
    uploadBytes: new Counter({
      name: `${prefix}upload_bytes_total`,
      help: 'Bytes stored through POST /v1/uploads.',
      registers,
    }),
    httpDuration: new Histogram({
      name: `${prefix}http_request_duration_seconds`,
      help: 'HTTP requests, from arrival to the end of the response, by method, route (the router path, e.g. /v1/jobs/:id) and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    eventStreamClients: new Gauge({
      name: `${prefix}event_stream_clients`,
      help: 'Clients connected to the Server-Sent Events routes.',
      registers,
    }),
  };
}
