import type { Readable } from 'node:stream';
import type { Observable } from 'rxjs';
import type { AcceptJobs } from '../jobs/accept-jobs.ts';
import type { CancelJob } from '../jobs/cancel-job.ts';
import type { Readiness } from '../jobs/check-readiness.ts';
import type { Job, JobLifecycleEvent, OutputName } from '../jobs/job.ts';
import type { JobStore } from '../jobs/job-store.ts';
import type { Logger } from '../logging/create-logger.ts';
import type { Metrics } from '../metrics/create-metrics.ts';
import type { EventStreamConfig } from './routes/event-routes.ts';
import type { SnsFetch } from './sns/fetch-sns-url.ts';
import type { UploadTarget } from './uploads/receive-multipart-upload.ts';

/** An output opened for streaming back to a client (storage's downloads give one). */
export interface OpenedOutput {
  readonly body: Readable;
  readonly contentType: string;
  readonly contentLength: number | undefined;
}

/** Everything the HTTP layer needs; `service.ts` builds it. Routes only enqueue, never subscribe. */
export interface AppDeps {
  readonly logger: Logger;
  readonly apiToken: string | undefined;
  /** The HTTP server's HOST: without a token, a loopback HOST also requires a loopback `Host` header. */
  readonly listenHost: string;
  readonly inputBucket: string;
  readonly store: JobStore;
  readonly acceptJobs: AcceptJobs;
  readonly cancelJob: CancelJob;
  readonly openOutput: (job: Job, name: OutputName) => Promise<OpenedOutput>;
  readonly readiness: () => Promise<Readiness>;
  /** False once shutdown began: uploads are refused before a byte is stored. */
  readonly accepting?: () => boolean;
  /** Where `POST /v1/uploads` writes, and how. */
  readonly uploads: UploadTarget;
  /** Fetches SNS signing certificates and SubscribeURLs (specs inject their own). */
  readonly snsFetch: SnsFetch;
  /** SNS topics whose deliveries are accepted (`SNS_TOPIC_ARNS`); unset: any topic. */
  readonly snsTopicArns?: readonly string[] | undefined;
  /** The job lifecycle stream, for the Server-Sent Events routes. */
  readonly events$: Observable<JobLifecycleEvent>;
  /** The service's metrics: `GET /metrics`, HTTP timings, event stream clients. */
  readonly metrics: Metrics;
  /** Bearer token for `GET /metrics`; unset: open. */
  readonly metricsToken: string | undefined;
  /** Event stream timings (keep-alive, progress throttle); defaults when unset. */
  readonly eventStreams?: Partial<EventStreamConfig>;
  /** Folder of the dashboard's files; default `public/` at the project root. */
  readonly publicDir?: string;
}
