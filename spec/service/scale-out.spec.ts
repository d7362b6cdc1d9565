import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import type { JobLifecycleEvent } from '../../src/jobs/job.ts';
import { endsRun } from '../../src/pipeline/job-event.ts';
import { createPostgresJobClaims } from '../../src/jobs/postgres-job-claims.ts';
import { createPostgresJobStore } from '../../src/jobs/postgres-job-store.ts';
import { pacedJob } from '../helpers/paced-job.ts';
import { postTrigger } from '../helpers/post-trigger.ts';
import { openSse } from '../helpers/read-sse.ts';
import { queuedJob } from '../helpers/queued-job.ts';
import { startTestPostgres, type TestPostgres } from '../helpers/test-postgres.ts';
import { startTestS3, type TestS3 } from '../helpers/test-s3.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/test-service.ts';

describe('several instances on one PostgreSQL', function () {
  this.timeout(60_000);
  let postgres: TestPostgres;
  let s3: TestS3;
  const services: TestService[] = [];
  const start = async (
    url: string,
    instanceId: string,
    env: Record<string, string> = {},
    runJob = pacedJob({ everyMs: 50, updates: 4 }),
  ) => {
    const svc = await startTestService({
      runJob,
      env: {
        DATABASE_URL: url,
        S3_ENDPOINT: s3.endpoint,
        S3_FORCE_PATH_STYLE: 'true',
        INSTANCE_ID: instanceId,
        JOB_CONCURRENCY: '2',
        ...env,
      },
    });
    services.push(svc);
    return svc;
  };
  const startedIn = (svc: TestService) => {
    const started: JobLifecycleEvent[] = [];
    svc.service.events$.subscribe((event) => {
      if (event.type === 'started') started.push(event);
    });
    return started;
  };

  before(async () => {
    [postgres, s3] = await Promise.all([startTestPostgres(), startTestS3()]);
    for (let i = 0; i < 30; i += 1) {
      await s3.client.send(new PutObjectCommand({ Bucket: 'ingest', Key: `spread/${i}.csv`, Body: `k,v\nx,${i}\n` }));
    }
  });
  after(async () => {
    await Promise.all([postgres.close(), s3.close()]);
  });
  afterEach(async () => {
    for (const svc of services.splice(0)) await svc.stop();
  });

  it('should run every job exactly once, spread over the instances, whichever accepted it', async () => {
    const url = await postgres.createDatabase();
    const instances = await Promise.all(['spec-a', 'spec-b', 'spec-c'].map((id) => start(url, id)));
    const started = instances.map(startedIn);
    const ids: string[] = [];
    for (let i = 0; i < 30; i += 1) {
      // All accepted by one instance: the other still gets its share by claiming.
      const answer = await postTrigger(instances[0]!, { key: `spread/${i}.csv` });
      expect(answer.status).to.equal(202);
      ids.push(answer.body.jobs[0].id);
    }
    const done = await Promise.all(ids.map((id) => waitForJob(instances[1]!, id, undefined, 30_000)));
    for (const job of done) expect(job).to.include({ status: 'succeeded', attempts: 1 });
    const runners = new Set(done.map((job) => job['runner']));
    expect([...runners].every((runner) => ['spec-a', 'spec-b', 'spec-c'].includes(String(runner)))).to.equal(true);
    expect(runners.size, 'more than one instance ran jobs').to.be.greaterThan(1);

    const startedIds = started.flat().map((event) => event.job.id);
    expect(startedIds.slice().sort(), 'each job started once, on one instance').to.deep.equal(ids.slice().sort());
    for (const [index, name] of ['spec-a', 'spec-b', 'spec-c'].entries()) {
      const ranHere = done.filter((job) => job['runner'] === name).map((job) => job['id']);
      expect(started[index]!.map((event) => event.job.id).sort(), `${name} started what it ran`).to.deep.equal(
        ranHere.sort(),
      );
    }
  });

  it('should stop a job within a second when it is cancelled on an instance that does not run it, ending once', async () => {
    const url = await postgres.createDatabase();
    // The default lease (30 s, renewed every 10 s): only the cancel notification can be this fast.
    const endless = pacedJob({ everyMs: 100, updates: Infinity });
    const runner = await start(url, 'spec-runner', { JOB_CONCURRENCY: '1' }, endless);
    const answer = await postTrigger(runner, { key: 'spread/1.csv' });
    expect(answer.status).to.equal(202);
    const id: string = answer.body.jobs[0].id;
    await waitForJob(
      runner,
      id,
      (job) => job['status'] === 'running' && (job['progress'] as { rows: number }).rows > 0,
    );
    const other = await start(url, 'spec-other', { JOB_CONCURRENCY: '1' }, endless);
    const ends: string[] = [];
    for (const [name, svc] of [
      ['spec-runner', runner],
      ['spec-other', other],
    ] as const) {
      svc.service.events$.subscribe((event) => {
        if (endsRun(event) && event.job.id === id) ends.push(`${name} ${event.type} ${Date.now()}`);
      });
    }

    const deletedAt = Date.now();
    const response = await other.fetch(`/v1/jobs/${id}`, { method: 'DELETE' });
    expect(response.status).to.equal(202);
    expect(await response.json()).to.include({ id, status: 'cancelled' });
    await waitForJob(runner, id, () => ends.length > 0, 5_000);
    const [name, type, at] = ends[0]!.split(' ');
    expect([name, type]).to.deep.equal(['spec-runner', 'cancelled']);
    const stoppedInMs = Number(at) - deletedAt;
    expect(stoppedInMs, 'stopped on the instance running it within a second').to.be.lessThan(1_000);

    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(
      ends.map((end) => end.split(' ').slice(0, 2).join(' ')),
      'one end, on the runner',
    ).to.deep.equal(['spec-runner cancelled']);
    expect(await waitForJob(other, id)).to.include({ status: 'cancelled', runner: 'spec-runner', output: null });
    console.log(`      cross-instance cancel: stopped ${stoppedInMs} ms after the DELETE`);
  });

  it("should show on one instance's event stream the start, progress and end of a job run on another", async () => {
    const url = await postgres.createDatabase();
    // spec-a is kept busy by a job that does not end, so the next one runs on spec-b.
    const a = await start(url, 'spec-a', { JOB_CONCURRENCY: '1' }, pacedJob({ everyMs: 100, updates: Infinity }));
    const busy = (await postTrigger(a, { key: 'spread/2.csv' })).body.jobs[0].id as string;
    await waitForJob(a, busy, (job) => job['status'] === 'running');
    const b = await start(url, 'spec-b', { JOB_CONCURRENCY: '1' }, pacedJob({ everyMs: 400, updates: 8 }));
    const seenByA: JobLifecycleEvent[] = [];
    a.service.events$.subscribe((event) => seenByA.push(event));
    const { response, sse } = await openSse(new URL('/v1/events', a.url));
    expect(response.status).to.equal(200);
    try {
      const answer = await postTrigger(a, { key: 'spread/3.csv' });
      const id: string = answer.body.jobs[0].id;
      const ofJob = (event: { data: unknown }) => (event.data as { job: { id: string } }).job.id === id;
      await sse.waitFor((event) => event.event === 'succeeded' && ofJob(event), 15_000);
      const shown = sse.events.filter(ofJob);
      const types = shown.map((event) => event.event);
      expect(types[0]).to.equal('queued');
      expect(
        types.filter((type) => type !== 'progress'),
        'each change once',
      ).to.deep.equal(['queued', 'started', 'succeeded']);
      expect(types.filter((type) => type === 'progress').length, 'progress while it ran').to.be.greaterThan(1);
      const succeeded = shown[shown.length - 1]!.data as { job: Record<string, unknown> };
      expect(succeeded.job).to.include({ id, status: 'succeeded', attempts: 1 });
      expect(succeeded.job['output']).to.not.equal(null);
      const gaps = shown.slice(1).map((event, index) => event.at - shown[index]!.at);
      expect(Math.max(...gaps), 'a message every few seconds at least').to.be.lessThan(2_500);
      expect(await waitForJob(b, id)).to.include({ status: 'succeeded', runner: 'spec-b' });
      expect(
        seenByA.filter((event) => event.job.id === id),
        "none of it in spec-a's own lifecycle (nor its records)",
      ).to.deep.equal([]);
      console.log(`      cross-instance events: ${types.join(' ')}; longest gap ${Math.round(Math.max(...gaps))} ms`);
    } finally {
      sse.close();
      expect((await a.fetch(`/v1/jobs/${busy}`, { method: 'DELETE' })).status).to.equal(202);
    }
  });

  it('should take over a job whose instance stopped renewing its lease, as its next attempt', async () => {
    const url = await postgres.createDatabase();
    // An instance that claimed a job, started its first attempt, then died.
    const store = await createPostgresJobStore({ url, onPoolError: () => {} });
    const job = queuedJob({ key: 'spread/0.csv', etag: '"e0"' });
    await store.insert([job]);
    expect(
      (await createPostgresJobClaims(store.pool, { runner: 'spec-dead', leaseMs: 1_500 }).claim(5)).map(
        (claimed) => claimed.id,
      ),
    ).to.deep.equal([job.id]);
    await store.update(job.id, { attempts: 1, startedAt: new Date().toISOString(), runner: 'spec-dead' });
    const claimedAt = Date.now();

    const c = await start(url, 'spec-c', { JOB_LEASE_MS: '1500' });
    const started = startedIn(c);
    const done = await waitForJob(c, job.id);
    expect(done).to.include({ status: 'succeeded', attempts: 2, runner: 'spec-c' });
    expect(started.map((event) => event.job.id)).to.deep.equal([job.id]);
    expect(Date.now() - claimedAt, 'not before the lease expired').to.be.greaterThan(1_500);
    await store.close();
  });

  it('should hold QUEUE_CAPACITY across the instances: what both queue together, then 429 on either; both show that depth', async () => {
    const url = await postgres.createDatabase();
    // One slot each, jobs that run until stopped: whatever is accepted past the first two stays queued.
    const env = { JOB_CONCURRENCY: '1', QUEUE_CAPACITY: '3', SHUTDOWN_TIMEOUT_MS: '100' };
    const [a, b] = await Promise.all(
      ['spec-a', 'spec-b'].map((id) => start(url, id, env, pacedJob({ everyMs: 100, updates: Infinity }))),
    );
    const running: string[] = [];
    for (const [i, svc] of [a!, b!].entries()) {
      const answer = await postTrigger(svc, { key: `spread/${i}.csv` });
      expect(answer.status).to.equal(202);
      running.push(answer.body.jobs[0].id);
    }
    for (const id of running) await waitForJob(a!, id, (job) => job['status'] === 'running');

    const tooMany = await postTrigger(a!, {
      Records: [2, 3, 4, 5].map((i) => ({
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: 'ingest' }, object: { key: `spread/${i}.csv`, eTag: `e${i}` } },
      })),
    });
    expect(tooMany.status, 'four asked for, room for three: none accepted').to.equal(429);
    expect(tooMany.body.error.code).to.equal('queue_full');
    const accepted = await Promise.all([
      postTrigger(a!, { key: 'spread/2.csv' }),
      postTrigger(b!, { key: 'spread/3.csv' }),
      postTrigger(a!, { key: 'spread/4.csv' }),
    ]);
    expect(accepted.map((answer) => answer.status)).to.deep.equal([202, 202, 202]);
    for (const svc of [a!, b!]) {
      const refused = await postTrigger(svc, { key: 'spread/5.csv' });
      expect(refused.status).to.equal(429);
      expect(refused.body.error.code).to.equal('queue_full');
      expect(refused.headers.get('retry-after')).to.equal('5');
    }
    const queued = (await (await b!.fetch('/v1/jobs?status=queued')).json()) as { jobs: unknown[] };
    expect(queued.jobs).to.have.length(3);
    for (const [svc, name] of [
      [a!, 'spec-a'],
      [b!, 'spec-b'],
    ] as const) {
      const metrics = await (await svc.fetch('/metrics')).text();
      expect(metrics).to.match(new RegExp(`^s3_csv_ingest_cluster_queue_depth\\{instance="${name}"\\} 3$`, 'm'));
      expect(metrics, 'none waits in its own queue').to.match(
        new RegExp(`^s3_csv_ingest_queue_depth\\{instance="${name}"\\} 0$`, 'm'),
      );
    }
  });
});
