import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { loadConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/logging/create-logger.ts';
import { startService, type Service, type ServiceOptions } from '../../src/service.ts';

export interface TestService {
  readonly service: Service;
  readonly url: string;
  readonly dataDir: string;
  /** Every log line so far, parsed. */
  logs(): Record<string, unknown>[];
  /** `fetch` against the service, with the API token when one is set. */
  fetch(pathname: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export interface TestServiceOptions extends Partial<Omit<ServiceOptions, 'logger'>> {
  /** Environment on top of the test defaults (port 0, embedded S3 on port 0, a temp data dir). */
  readonly env?: Record<string, string>;
}

/** Starts the whole service as `npm start` does, on free loopback ports, with its logs captured. */
export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 's3-csv-ingest-svc-'));
  const env: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    EMBEDDED_S3_PORT: '0',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'debug',
    LOG_FORMAT: 'json',
    ...options.env,
  };
  const config = loadConfig(env);
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    let newline;
    while ((newline = pending.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(pending.slice(0, newline)) as Record<string, unknown>);
      pending = pending.slice(newline + 1);
    }
  });
  const logger = createLogger({ level: config.log.level, format: 'json', stream });
  const { env: _env, ...serviceOptions } = options;
  const service = await startService(config, { logger, ...serviceOptions });
  const token = env['API_TOKEN'];
  return {
    service,
    url: service.url,
    dataDir,
    logs: () => [...lines],
    fetch(pathname, init = {}) {
      const headers = new Headers(init.headers);
      if (token !== undefined && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
      return fetch(new URL(pathname, service.url), { ...init, headers });
    },
    async stop() {
      await service.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `GET /v1/jobs/:id` until the job is finished (or `until` says so); fails after `timeoutMs`. */
export async function waitForJob(
  svc: TestService,
  id: string,
  until: (job: Record<string, unknown>) => boolean = (job) =>
    ['succeeded', 'failed', 'cancelled'].includes(String(job['status'])),
  timeoutMs = 15_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await svc.fetch(`/v1/jobs/${id}`);
    const job = (await response.json()) as Record<string, unknown>;
    if (until(job)) return job;
    if (Date.now() > deadline)
      throw new Error(`job ${id} did not reach the expected state in ${timeoutMs} ms: ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
