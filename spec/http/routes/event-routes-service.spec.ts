import { expect } from 'chai';
import { openSse } from '../../helpers/read-sse.ts';
import { pacedJob } from '../../helpers/paced-job.ts';
import { startTestService, waitForJob, type TestService } from '../../helpers/test-service.ts';

const TOKEN = 'events-token';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('eventRoutes (through the service)', () => {
  let svc: TestService;
  let keys = 0;

  before(async () => {
    svc = await startTestService({
      env: { API_TOKEN: TOKEN, JOB_CONCURRENCY: '4' },
      embeddedS3Events: false,
      // 200 progress updates, one every 5 ms: about 1 s of 200 updates a second.
      runJob: pacedJob({ everyMs: 5, updates: 200 }),
    });
  });
  after(async () => svc.stop());

  async function trigger(): Promise<string> {
    keys += 1;
    const response = await svc.fetch('/v1/trigger', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: `events/${keys}.csv`, versionId: 'v1' }),
    });
    expect(response.status).to.equal(202);
    const { jobs } = (await response.json()) as { jobs: { id: string }[] };
    return jobs[0]!.id;
  }

  async function gauge(name: string): Promise<number> {
    const text = await (await fetch(new URL('/metrics', svc.url))).text();
    // Every sample carries the instance label.
    const match = new RegExp(`^${name}\\{instance="[^"]*"\\} (\\S+)$`, 'm').exec(text);
    return Number(match?.[1]);
  }

  it('should refuse both routes without the bearer token', async () => {
    for (const path of ['/v1/events', '/v1/jobs/3f1c7a52-52a4-4a5a-9b8b-8f6f0f0f0f0f/events']) {
      const response = await fetch(new URL(path, svc.url));
      expect(response.status, path).to.equal(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).to.equal('unauthorized');
    }
  });

  it('should answer an unknown or malformed job id with 404 in the error shape', async () => {
    for (const id of ['3f1c7a52-52a4-4a5a-9b8b-8f6f0f0f0f0f', 'nope']) {
      const { response } = await openSse(new URL(`/v1/jobs/${id}/events`, svc.url), auth);
      expect(response.status, id).to.equal(404);
      expect(response.headers.get('content-type')).to.match(/^application\/json/);
    }
  });

  it('should stream a running job: a snapshot, throttled progress, the final event, then end', async () => {
    const id = await trigger();
    const { response, sse } = await openSse(new URL(`/v1/jobs/${id}/events`, svc.url), auth);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.equal('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).to.equal('no-cache, no-transform');
    await sse.ended;

    const names = sse.events.map((event) => event.event);
    expect(names[0]).to.equal('snapshot');
    expect((sse.events[0]!.data as { id: string }).id).to.equal(id);
    expect(names.at(-1)).to.equal('succeeded');
    const final = sse.events.at(-1)!.data as {
      type: string;
      job: { id: string; status: string; progress: { rows: number }; output: { rows: string } };
    };
    expect(final.job).to.include({ id, status: 'succeeded' });
    expect(final.job.progress.rows).to.equal(2000);
    expect(final.job.output.rows).to.equal(`processed/ingest/events/${keys}.csv/rows.ndjson`);

    // 200 updates in about a second reach the client as at most 4 a second (+1 for the leading one).
    const progress = sse.events.filter((event) => event.event === 'progress');
    const span = (progress.at(-1)!.at - progress[0]!.at) / 1000;
    expect(progress.length).to.be.greaterThan(1);
    expect(progress.length).to.be.at.most(Math.ceil(span * 4) + 2);
    const rows = progress.map((event) => (event.data as { job: { progress: { rows: number } } }).job.progress.rows);
    expect(rows).to.deep.equal([...rows].sort((a, b) => a - b));
  });

  it('should send the final state of a finished job and end at once', async () => {
    const id = await trigger();
    await waitForJob(svc, id);
    const started = performance.now();
    const { sse } = await openSse(new URL(`/v1/jobs/${id}/events`, svc.url), auth);
    await sse.ended;
    expect(performance.now() - started).to.be.below(1_000);
    expect(sse.events).to.have.length(1);
    expect(sse.events[0]!.event).to.equal('snapshot');
    expect(sse.events[0]!.data).to.include({ id, status: 'succeeded' });
  });

  it("should end a job's stream with `cancelled` when the job is cancelled", async () => {
    const id = await trigger();
    const { sse } = await openSse(new URL(`/v1/jobs/${id}/events`, svc.url), auth);
    await sse.waitFor((event) => event.event === 'progress');
    expect((await svc.fetch(`/v1/jobs/${id}`, { method: 'DELETE' })).status).to.equal(202);
    await sse.ended;
    expect(sse.events.at(-1)!.event).to.equal('cancelled');
  });

  it("should end a queued job's stream with `cancelled` at the cancel, while the job ahead of it still runs", async () => {
    const one = await startTestService({
      env: { API_TOKEN: TOKEN, JOB_CONCURRENCY: '1', SHUTDOWN_TIMEOUT_MS: '100' },
      embeddedS3Events: false,
      runJob: pacedJob({ everyMs: 20, updates: Infinity }),
    });
    try {
      const post = async (key: string) => {
        const response = await one.fetch('/v1/trigger', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ key, versionId: 'v1' }),
        });
        return ((await response.json()) as { jobs: { id: string }[] }).jobs[0]!.id;
      };
      const running = await post('events/ahead.csv');
      const queued = await post('events/behind.csv');
      const { sse } = await openSse(new URL(`/v1/jobs/${queued}/events`, one.url), auth);
      expect((await one.fetch(`/v1/jobs/${queued}`, { method: 'DELETE' })).status).to.equal(202);
      await sse.ended;
      expect(sse.events.at(-1)!.event).to.equal('cancelled');
      expect(
        ((await (await one.fetch(`/v1/jobs/${running}`)).json()) as { status: string }).status,
        'the job ahead never ends by itself',
      ).to.equal('running');
    } finally {
      await one.stop();
    }
  });

  it('should stream every job on /v1/events, and let go of a client that leaves', async () => {
    const before = await gauge('s3_csv_ingest_event_stream_clients');
    const { sse } = await openSse(new URL('/v1/events', svc.url), auth);
    const id = await trigger();
    const forJob = (name: string) => (event: { event: string; data: unknown }) =>
      event.event === name && (event.data as { job: { id: string } }).job.id === id;
    const queued = await sse.waitFor(forJob('queued'));
    expect((queued.data as { job: { status: string; source: { key: string } } }).job.status).to.equal('queued');
    await sse.waitFor(forJob('started'));
    await sse.waitFor(forJob('progress'));
    await sse.waitFor(forJob('succeeded'));
    expect(await gauge('s3_csv_ingest_event_stream_clients')).to.equal(before + 1);

    sse.close();
    await sse.ended;
    const deadline = Date.now() + 2_000;
    while ((await gauge('s3_csv_ingest_event_stream_clients')) !== before && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(await gauge('s3_csv_ingest_event_stream_clients')).to.equal(before);
  });

  it('should open SSE_MAX_CLIENTS streams, answer the next 503 server_busy with Retry-After, and admit a new one when one leaves', async () => {
    const capped = await startTestService({
      env: { API_TOKEN: TOKEN, SSE_MAX_CLIENTS: '2' },
      embeddedS3Events: false,
      runJob: pacedJob({ everyMs: 5, updates: 1 }),
    });
    const streams: { close(): void }[] = [];
    try {
      for (let i = 0; i < 2; i += 1) {
        const { response, sse } = await openSse(new URL('/v1/events', capped.url), auth);
        expect(response.status, `stream ${i + 1}`).to.equal(200);
        streams.push(sse);
      }
      const refused = await capped.fetch('/v1/events');
      expect(refused.status).to.equal(503);
      expect(refused.headers.get('retry-after')).to.equal('5');
      expect(((await refused.json()) as { error: { code: string } }).error.code).to.equal('server_busy');
      streams.shift()!.close();
      const deadline = Date.now() + 2_000;
      let admitted = await openSse(new URL('/v1/events', capped.url), auth);
      while (admitted.response.status === 503 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        admitted = await openSse(new URL('/v1/events', capped.url), auth);
      }
      expect(admitted.response.status).to.equal(200);
      streams.push(admitted.sse);
    } finally {
      for (const sse of streams) sse.close();
      await capped.stop();
    }
  });
});
