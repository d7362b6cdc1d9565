import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { NEVER } from 'rxjs';
import type { AppDeps } from '../../../src/http/app-deps.ts';
import { createApp } from '../../../src/http/create-app.ts';
import { createMemoryJobStore } from '../../helpers/memory-job-store.ts';
import { createLogger } from '../../../src/logging/create-logger.ts';
import { createMetrics } from '../../../src/metrics/create-metrics.ts';
import { rawRequest, type RawRequest } from '../../helpers/raw-request.ts';
import { startTestService, type TestService } from '../../helpers/test-service.ts';

const TOKEN = 'no-sniff-token';

describe('X-Content-Type-Options: nosniff', () => {
  let svc: TestService;

  before(async () => {
    svc = await startTestService({
      runJob: () => () => NEVER,
      embeddedS3Events: false,
      env: { API_TOKEN: TOKEN, LOG_LEVEL: 'warn', SHUTDOWN_TIMEOUT_MS: '50' },
    });
  });
  after(async () => svc.stop());

  it('should be on every answer: successes, streams, pages, errors and 404s', async () => {
    const authorization = `Bearer ${TOKEN}`;
    const json = { 'content-type': 'application/json', authorization };
    const requests: (RawRequest & { status: number })[] = [
      { path: '/healthz', status: 200 },
      { path: '/readyz', status: 200 },
      { path: '/metrics', status: 200 },
      { path: '/openapi.json', status: 200 },
      { path: '/', status: 200 },
      { path: '/assets/app.js', status: 200 },
      { path: '/assets/nothing.js', status: 404 },
      { path: '/v1/jobs', headers: { authorization }, status: 200 },
      { path: '/v1/events', headers: { authorization }, status: 200 },
      { path: '/v1/jobs', status: 401 },
      { path: '/v1/jobs?limit=0', headers: { authorization }, status: 400 },
      { path: '/v1/jobs/3f1c7a52-52a4-4a5a-9b8b-8f6f0f0f0f0f', headers: { authorization }, status: 404 },
      { path: '/no/such/route', status: 404 },
      { method: 'PUT', path: '/v1/jobs', headers: { authorization }, status: 405 },
      { method: 'POST', path: '/v1/trigger', headers: json, body: '{"key":', status: 400 },
      {
        method: 'POST',
        path: '/v1/trigger',
        headers: json,
        body: JSON.stringify({ key: 'a.csv', versionId: 'v' }),
        status: 202,
      },
      {
        method: 'POST',
        path: '/v1/trigger',
        headers: { ...json, 'content-type': 'text/plain' },
        body: '{}',
        status: 415,
      },
      {
        method: 'POST',
        path: '/v1/trigger',
        headers: json,
        body: JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }),
        status: 413,
      },
    ];
    for (const { status, ...request } of requests) {
      const answer = await rawRequest(svc.url, request);
      const what = `${request.method ?? 'GET'} ${request.path}`;
      expect(answer.status, what).to.equal(status);
      expect(answer.headers['x-content-type-options'], what).to.equal('nosniff');
    }
  });

  it('should be on an unchanged page answered 304', async () => {
    const first = await rawRequest(svc.url, { path: '/' });
    const again = await rawRequest(svc.url, { path: '/', headers: { 'if-none-match': String(first.headers.etag) } });
    expect(again.status).to.equal(304);
    expect(again.headers['x-content-type-options']).to.equal('nosniff');
  });

  it('should be on an internal error (500)', async () => {
    const store = createMemoryJobStore();
    const failing = { ...store, list: () => Promise.reject(new Error('the store fell over')) };
    const deps = {
      logger: createLogger({ level: 'error', format: 'json', stream: new PassThrough() }),
      apiToken: undefined,
      listenHost: '127.0.0.1',
      metricsToken: undefined,
      inputBucket: 'ingest',
      store: failing,
      events$: NEVER,
      metrics: createMetrics({ queueDepth: () => 0, defaultMetrics: false }),
    } as unknown as AppDeps; // GET /v1/jobs reads only the store
    const server = createApp(deps).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const answer = await rawRequest(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, {
        path: '/v1/jobs',
      });
      expect(answer.status).to.equal(500);
      expect(JSON.parse(answer.text).error.code).to.equal('internal');
      expect(answer.headers['x-content-type-options']).to.equal('nosniff');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
