import { expect } from 'chai';
import sinon from 'sinon';
import Koa from 'koa';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { Observable, Subject } from 'rxjs';
import { handleErrors } from '../../../src/http/middleware/handle-errors.ts';
import { eventRoutes, type EventStreamConfig } from '../../../src/http/routes/event-routes.ts';
import { EMPTY_PROGRESS, type Job, type JobLifecycleEvent } from '../../../src/jobs/job.ts';
import { createMemoryJobStore } from '../../helpers/memory-job-store.ts';
import { createLogger } from '../../../src/logging/create-logger.ts';
import { queuedJob } from '../../helpers/queued-job.ts';
import { openSse } from '../../helpers/read-sse.ts';

function job(id: string, status: Job['status'] = 'queued'): Job {
  return queuedJob({ id, status, key: `k/${id}.csv`, etag: '"e"' });
}

interface EventServer {
  readonly url: string;
  close(): Promise<void>;
}

/** The event routes alone on a loopback port, over `events$` and a store holding `jobs`. */
async function serveEvents(
  events$: Observable<JobLifecycleEvent>,
  jobs: Job[],
  eventStreams: Partial<EventStreamConfig>,
): Promise<EventServer> {
  const store = createMemoryJobStore();
  await store.insert(jobs);
  const app = new Koa();
  app.silent = true; // a client leaving mid-stream is a "premature close" error event
  // 503 server_busy is logged as an error; the specs that provoke it need no such lines.
  app.use(handleErrors(createLogger({ level: 'error', format: 'json', stream: new PassThrough().resume() })));
  app.use(
    eventRoutes({
      apiToken: undefined,
      events$,
      store,
      eventStreams: { keepAliveMs: 40, progressIntervalMs: 100, recheckMs: 60_000, ...eventStreams },
    }).routes(),
  );
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('eventRoutes', () => {
  const id = '0b8a5f3e-8f4e-4b8c-9d51-3c2b1a0f9e8d';
  let events: Subject<JobLifecycleEvent>;
  let served: EventServer;
  let url: string;

  beforeEach(async () => {
    events = new Subject();
    served = await serveEvents(events, [job(id)], {});
    url = served.url;
  });
  afterEach(async () => served.close());

  it('should send a keep-alive comment every keepAliveMs while nothing happens', async () => {
    // RxJS's interval runs on setInterval: faked, 45 s pass at once; the sockets keep their own timers.
    const clock = sinon.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const quiet = await serveEvents(events, [job(id)], { keepAliveMs: 15_000 });
    try {
      const { sse } = await openSse(`${quiet.url}/v1/events`);
      await clock.tickAsync(14_999);
      await clock.tickAsync(30_001);
      await sse.waitForComments(4);
      expect(sse.comments(), '": connected", then one each 15 s').to.equal(4);
      sse.close();
    } finally {
      clock.restore();
      await quiet.close();
    }
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
    const progress = (rows: number): JobLifecycleEvent => ({
      type: 'progress',
      job: queued,
      attempt: 1,
      progress: { ...EMPTY_PROGRESS, rows },
    });
    events.next({ type: 'started', job: queued, attempt: 1 });
    events.next(progress(1)); // sent at once
    events.next(progress(2)); // waits for the interval...
    events.next({ type: 'attempt_failed', job: queued, attempt: 1, error: new Error('boom'), retryInMs: 5 }); // ...and is dropped
    events.next({ type: 'started', job: queued, attempt: 2 });
    events.next(progress(3));
    events.next({ type: 'failed', job: queued, attempt: 2, error: new Error('boom') });
    await sse.ended;
    expect(sse.events.map((event) => event.event)).to.deep.equal([
      'snapshot',
      'started',
      'progress',
      'attempt_failed',
      'started',
      'progress',
      'failed',
    ]);
    expect(sse.events[3]!.data).to.deep.include({ retryInMs: 5 });
    expect((sse.events[3]!.data as { job: { error: { code: string } } }).job.error.code).to.equal('internal');
    expect((sse.events[5]!.data as { job: { progress: { rows: number } } }).job.progress.rows).to.equal(3);
  });
});

describe('eventRoutes (bounded fan-out)', () => {
  const ids = ['1c6f0d2e-3a4b-4c5d-8e6f-708192a3b4c5', '2d7a1e3f-4b5c-4d6e-9f70-8192a3b4c5d6'];
  let events: Subject<JobLifecycleEvent>;
  let served: EventServer | undefined;
  const open: { close(): void }[] = [];

  beforeEach(() => {
    events = new Subject();
  });
  afterEach(async () => {
    for (const sse of open.splice(0)) sse.close();
    await served?.close();
    served = undefined;
  });

  async function stream(path: string): Promise<Response> {
    const { response, sse } = await openSse(`${served!.url}${path}`);
    if (response.ok) open.push(sse);
    return response;
  }

  /** Opens `path` once a slot is free again (the server notices a client that left a moment later). */
  async function streamWhenFree(path: string, timeoutMs = 3_000): Promise<Response> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await stream(path);
      if (response.status !== 503 || Date.now() > deadline) return response;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('should serve at most maxClients streams over both routes, refuse the next with 503 server_busy and Retry-After, and admit one when another leaves', async () => {
    served = await serveEvents(events, [job(ids[0]!)], { maxClients: 3, retryAfterSeconds: 7 });
    expect((await stream('/v1/events')).status).to.equal(200);
    expect((await stream(`/v1/jobs/${ids[0]}/events`)).status).to.equal(200);
    // An unknown job is 404 and holds no slot.
    expect((await stream(`/v1/jobs/${ids[1]}/events`)).status).to.equal(404);
    expect((await stream('/v1/events')).status).to.equal(200);
    for (const path of ['/v1/events', `/v1/jobs/${ids[0]}/events`]) {
      const refused = await fetch(`${served.url}${path}`);
      expect(refused.status, path).to.equal(503);
      expect(refused.headers.get('retry-after'), path).to.equal('7');
      const body = (await refused.json()) as { error: { code: string; message: string } };
      expect(body.error.code, path).to.equal('server_busy');
      expect(body.error.message, path).to.match(/3 event streams are open.*SSE_MAX_CLIENTS/);
    }
    open.shift()!.close();
    expect((await streamWhenFree(`/v1/jobs/${ids[0]}/events`)).status).to.equal(200);
    expect((await stream('/v1/events')).status).to.equal(503);
  });

  it('should serialise each event once and subscribe to the lifecycle stream once, whatever the number of clients', async () => {
    let subscribers = 0;
    const counted$ = new Observable<JobLifecycleEvent>((subscriber) => {
      subscribers += 1;
      const subscription = events.subscribe(subscriber);
      return () => {
        subscribers -= 1;
        subscription.unsubscribe();
      };
    });
    served = await serveEvents(counted$, [job(ids[0]!)], { maxClients: 10 });
    const readers = [];
    for (let i = 0; i < 6; i += 1) readers.push((await openSse(`${served.url}/v1/events`)).sse);
    for (let i = 0; i < 2; i += 1) readers.push((await openSse(`${served.url}/v1/jobs/${ids[0]}/events`)).sse);
    open.push(...readers);
    await Promise.all(readers.slice(6).map((sse) => sse.waitFor((event) => event.event === 'snapshot')));
    // every /v1/events reader subscribed (its opening frame read)
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(subscribers).to.equal(1);
    // JSON.stringify calls toJSON once per serialisation of the event's job.
    let serialised = 0;
    const queued = { ...job(ids[0]!), toJSON: () => ((serialised += 1), job(ids[0]!)) };
    events.next({ type: 'queued', job: queued });
    await Promise.all(readers.map((sse) => sse.waitFor((event) => event.event === 'queued')));
    expect(serialised).to.equal(1);
    for (const sse of readers) {
      expect((sse.events.find((event) => event.event === 'queued')!.data as { job: { id: string } }).job.id).to.equal(
        ids[0],
      );
    }
  });

  it('should drop a client that stops reading once its backlog passes maxBufferedBytes, and keep one that reads', async () => {
    served = await serveEvents(events, [], { maxClients: 2, maxBufferedBytes: 256 * 1024 });
    // A client that reads the headers, then nothing.
    const stalled = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http
        .get(`${served!.url}/v1/events`, (response) => {
          response.pause();
          resolve(response);
        })
        .on('error', reject);
    });
    const stalledSocket = stalled.socket;
    open.push({ close: () => stalledSocket.destroy() });
    const reader = await openSse(`${served.url}/v1/events`);
    expect(reader.response.status).to.equal(200);
    open.push(reader.sse);
    expect((await stream('/v1/events')).status, 'both slots taken').to.equal(503);
    // About 64 KiB of frames every 5 ms, until the stalled client's slot is free again (at most 64 MiB,
    // far past what loopback socket buffers hold).
    const key = 'k'.repeat(8 * 1024);
    let sent = 0;
    let admitted: Response | undefined;
    for (let batch = 1; batch <= 1024 && admitted?.status !== 200; batch += 1) {
      for (let i = 0; i < 8; i += 1) {
        sent += 1;
        const id = `00000000-0000-4000-8000-${String(sent).padStart(12, '0')}`;
        events.next({ type: 'queued', job: { ...job(id), source: { ...job(id).source, key } } });
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (batch % 16 === 0) admitted = await stream('/v1/events');
    }
    expect(admitted?.status, `the stalled client still held its slot after ${sent} frames`).to.equal(200);
    // The reader got everything and is still open.
    await reader.sse.waitFor(() => reader.sse.events.length === sent);
    expect(reader.sse.events.every((event) => event.event === 'queued')).to.equal(true);
  });
});
