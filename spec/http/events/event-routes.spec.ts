import { expect } from 'chai';
import Koa from 'koa';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Subject } from 'rxjs';
import { handleErrors } from '../../../src/http/middleware/handle-errors.ts';
import { eventRoutes } from '../../../src/http/routes/event-routes.ts';
import { EMPTY_PROGRESS, type Job } from '../../../src/jobs/job.ts';
import { createMemoryJobStore } from '../../../src/jobs/memory-job-store.ts';
import type { JobLifecycleEvent } from '../../../src/jobs/record-job-events.ts';
import { createLogger } from '../../../src/logging/create-logger.ts';
import { openSse } from '../../helpers/read-sse.ts';

function job(id: string, status: Job['status'] = 'queued'): Job {
  return {
    id, status, trigger: 'rest', pipeline: 'default', attempts: 0,
    source: { bucket: 'ingest', key: `k/${id}.csv`, versionId: null, etag: '"e"', size: 10 },
    createdAt: new Date().toISOString(), startedAt: null, finishedAt: null,
    progress: EMPTY_PROGRESS, output: null, error: null,
  };
}

describe('eventRoutes', () => {
  const id = '0b8a5f3e-8f4e-4b8c-9d51-3c2b1a0f9e8d';
  let events: Subject<JobLifecycleEvent>;
  let server: Server;
  let url: string;

  beforeEach(async () => {
    events = new Subject();
    const store = createMemoryJobStore();
    await store.insert([job(id)]);
    const app = new Koa();
    app.silent = true; // a client leaving mid-stream is a "premature close" error event
    app.use(handleErrors(createLogger({ level: 'error', format: 'json' })));
    app.use(eventRoutes({ apiToken: undefined, events$: events, store, eventStreams: { keepAliveMs: 40, progressIntervalMs: 100, recheckMs: 60_000 } }).routes());
    server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('should send keep-alive comments while nothing happens', async () => {
    const { sse } = await openSse(`${url}/v1/events`);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(sse.comments()).to.be.at.least(3); // ": connected", then one every 40 ms
    sse.close();
  });

  for (const path of ['/v1/events', `/v1/jobs/${id}/events`]) {
    it(`should unsubscribe from the lifecycle stream when the client of ${path} leaves`, async () => {
      const { sse } = await openSse(`${url}${path}`);
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(events.observed, 'subscribed while connected').to.be.true;
      sse.close();
      const deadline = Date.now() + 2_000;
      while (events.observed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(events.observed, 'subscribed after the client left').to.be.false;
    });
  }

  it('should end every stream when the lifecycle stream completes (the service stops)', async () => {
    const { sse } = await openSse(`${url}/v1/events`);
    await new Promise((resolve) => setTimeout(resolve, 30));
    events.complete();
    await sse.ended;
  });

  it('should pass each status change and drop a throttled progress the change overtakes', async () => {
    const { sse } = await openSse(`${url}/v1/jobs/${id}/events`);
    await sse.waitFor((event) => event.event === 'snapshot');
    const queued = job(id);
    const progress = (rows: number): JobLifecycleEvent => ({ type: 'progress', job: queued, attempt: 1, progress: { ...EMPTY_PROGRESS, rows } });
    events.next({ type: 'started', job: queued, attempt: 1 });
    events.next(progress(1)); // sent at once
    events.next(progress(2)); // waits for the interval...
    events.next({ type: 'attempt_failed', job: queued, attempt: 1, error: new Error('boom'), retryInMs: 5 }); // ...and is dropped
    events.next({ type: 'started', job: queued, attempt: 2 });
    events.next(progress(3));
    events.next({ type: 'failed', job: queued, attempt: 2, error: new Error('boom') });
    await sse.ended;
    expect(sse.events.map((event) => event.event)).to.deep.equal(['snapshot', 'started', 'progress', 'attempt_failed', 'started', 'progress', 'failed']);
    expect(sse.events[3]!.data).to.deep.include({ retryInMs: 5 });
    expect((sse.events[3]!.data as { job: { error: { code: string } } }).job.error.code).to.equal('internal');
    expect((sse.events[5]!.data as { job: { progress: { rows: number } } }).job.progress.rows).to.equal(3);
  });
});
