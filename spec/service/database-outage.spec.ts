import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import type { JobLifecycleEvent } from '../../src/jobs/job.ts';
import { postTrigger } from '../helpers/post-trigger.ts';
import { startSlowDownProxy, type SlowDownProxy } from '../helpers/slow-down-proxy.ts';
import { startTestPostgres, type TestPostgres } from '../helpers/test-postgres.ts';
import { startTestS3, type TestS3 } from '../helpers/test-s3.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/test-service.ts';

const JOBS = 4;
/**
 * Leases renewed every 10 s (the default): the outage below lasts past one renewal of each instance, and
 * ends well within the lease (20 s at least after the last renewal), so that no job is taken over.
 */
const LEASE_MS = 30_000;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a PostgreSQL outage under several instances', function () {
  this.timeout(90_000);
  let postgres: TestPostgres;
  let s3: TestS3;
  let proxy: SlowDownProxy;
  const services: TestService[] = [];
  // The jobs' reads of their sources wait for this: they run when the database stops, and end while it is away.
  let releaseReads: () => void;
  const readsReleased = new Promise<void>((resolve) => {
    releaseReads = resolve;
  });

  before(async () => {
    [postgres, s3] = await Promise.all([startTestPostgres(), startTestS3()]);
    proxy = await startSlowDownProxy(s3.endpoint);
    // Only the jobs' reads of their sources wait; HEADs at trigger time and output writes pass at once.
    proxy.rule(({ method, url }) =>
      method === 'GET' && url.startsWith('/ingest/outage/') ? { until: readsReleased } : undefined,
    );
    for (let i = 0; i < JOBS; i += 1) {
      const rows = Array.from({ length: 100 }, (_, row) => `${i}-${row},${row}`).join('\n');
      await s3.client.send(new PutObjectCommand({ Bucket: 'ingest', Key: `outage/${i}.csv`, Body: `k,v\n${rows}\n` }));
    }
  });
  after(async () => {
    releaseReads();
    for (const svc of services.splice(0)) await svc.stop();
    await proxy.close();
    await Promise.all([postgres.close(), s3.close()]);
  });

  it('should stay up, refuse triggers with 503 store_unavailable, and record every running job once when it is back', async () => {
    const url = await postgres.createDatabase();
    for (const id of ['outage-a', 'outage-b']) {
      services.push(
        await startTestService({
          env: {
            DATABASE_URL: url,
            S3_ENDPOINT: proxy.endpoint,
            S3_FORCE_PATH_STYLE: 'true',
            INSTANCE_ID: id,
            JOB_CONCURRENCY: '2',
            WORKER_THREADS: '1',
            JOB_LEASE_MS: String(LEASE_MS),
          },
        }),
      );
    }
    const [a, b] = services as [TestService, TestService];
    const events: JobLifecycleEvent[] = [];
    for (const svc of services) svc.service.events$.subscribe((event) => events.push(event));
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i += 1) {
      const answer = await postTrigger(i % 2 === 0 ? a : b, { key: `outage/${i}.csv` });
      expect(answer.status).to.equal(202);
      ids.push(answer.body.jobs[0].id);
    }
    for (const id of ids) await waitForJob(a, id, (job) => job['status'] === 'running' && job['attempts'] === 1);
    expect(new Set(events.filter((event) => event.type === 'started').map((event) => event.job.id)).size).to.equal(
      JOBS,
    );

    await postgres.stopServer();
    try {
      for (const svc of services) {
        expect((await svc.fetch('/healthz')).status).to.equal(200);
        const ready = await svc.fetch('/readyz');
        expect(ready.status).to.equal(503);
        expect(await ready.json()).to.deep.include({ problems: ['The job store does not answer.'] });
      }
      const refused = await postTrigger(b, { key: 'outage/0.csv', force: true });
      expect(refused.status).to.equal(503);
      expect(refused.body.error.code).to.equal('store_unavailable');
      expect(refused.headers.get('retry-after')).to.equal('5');
      const form = new FormData();
      form.set('file', new Blob(['k,v\nx,1\n'], { type: 'text/csv' }), 'late.csv');
      const upload = await a.fetch('/v1/uploads', { method: 'POST', body: form });
      expect(upload.status).to.equal(503);
      expect(upload.headers.get('retry-after')).to.equal('5');
      expect(((await upload.json()) as { error: { code: string } }).error.code).to.equal('store_unavailable');

      // Each instance fails to renew its leases, and its jobs go on.
      for (const svc of services) {
        await until(
          'a lease renewal failed',
          async () =>
            svc.logs().some((line) => String(line['message']).startsWith('renewing job leases failed')) || undefined,
          LEASE_MS,
        );
      }
      releaseReads();
      // The jobs run on and end while the database is away.
      await until(
        'every job ended while the database was down',
        async () => (events.filter((event) => event.type === 'succeeded').length === JOBS ? true : undefined),
        30_000,
      );
      expect((await a.fetch('/readyz')).status, 'still away when the jobs ended').to.equal(503);
    } finally {
      await postgres.startServer();
    }

    for (const svc of services)
      await until('ready again', async () => ((await svc.fetch('/readyz')).ok ? true : undefined));
    for (const id of ids) {
      const job = await waitForJob(b, id);
      expect(job).to.include({ status: 'succeeded', attempts: 1 });
      expect(job['progress']).to.deep.include({ rows: 100, rejected: 0 });
      const manifest = await b.fetch(`/v1/jobs/${id}/outputs/manifest`);
      expect(manifest.status).to.equal(200);
      expect(await manifest.json()).to.deep.include({ jobId: id, rows: 100, rejected: 0 });
    }
    const ended = events.filter((event) => ['succeeded', 'failed', 'cancelled'].includes(event.type));
    expect(ended.map((event) => event.job.id).sort(), 'each job ended once, on one instance').to.deep.equal(
      ids.slice().sort(),
    );
    expect(events.filter((event) => event.type === 'started')).to.have.length(JOBS);
    // Triggers work again.
    expect((await postTrigger(a, { key: 'outage/0.csv' })).body.jobs[0]).to.include({ id: ids[0], duplicate: true });
  });
});
