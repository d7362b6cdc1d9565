import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import http from 'node:http';
import { text } from 'node:stream/consumers';
import { defer, NEVER, throwError, type Observable } from 'rxjs';
import type { Config } from '../../../src/config/config.ts';
import { AppError } from '../../../src/errors.ts';
import type { Job, JobProgress, JobRunResult } from '../../../src/jobs/job.ts';
import { outputKeys } from '../../../src/jobs/output-keys.ts';
import type { RunUpdate } from '../../../src/pipeline/job-event.ts';
import { postTrigger } from '../../helpers/post-trigger.ts';
import { startTestService, waitForJob, type TestService } from '../../helpers/test-service.ts';

/** A job by key prefix: `ok/` writes its three outputs and succeeds, `fail/` fails, anything else never ends. */
function scriptedJob({ s3, config }: { s3: TestService['service']['s3']; config: Config }) {
  return (job: Job): Observable<RunUpdate<JobProgress, JobRunResult>> => {
    if (job.source.key.startsWith('fail/'))
      return throwError(() => new AppError('csv_invalid', 'Unterminated quote at line 3.'));
    if (!job.source.key.startsWith('ok/')) return NEVER;
    return defer(async () => {
      const output = outputKeys(config.buckets.output, config.buckets.outputPrefix, job.source);
      await s3.send(new PutObjectCommand({ Bucket: output.bucket, Key: output.rows, Body: '{"a":"1"}\n{"a":"2"}\n' }));
      await s3.send(new PutObjectCommand({ Bucket: output.bucket, Key: output.rejects, Body: new Uint8Array(0) }));
      await s3.send(
        new PutObjectCommand({
          Bucket: output.bucket,
          Key: output.manifest,
          Body: JSON.stringify({ jobId: job.id, rows: 2 }),
        }),
      );
      return { kind: 'done' as const, result: { output } };
    });
  };
}

describe('jobRoutes', () => {
  let svc: TestService;
  const trigger = async (key: string) => (await postTrigger(svc, { key, versionId: 'v1' })).body.jobs[0] as Job;

  before(async () => {
    svc = await startTestService({
      env: { JOB_CONCURRENCY: '1', SHUTDOWN_TIMEOUT_MS: '50' },
      embeddedS3Events: false,
      runJob: scriptedJob,
    });
  });
  after(async () => svc.stop());

  describe('GET /v1/jobs/:id/outputs/:name', () => {
    it('should stream each output of a succeeded job with its content type', async () => {
      const job = await trigger('ok/a.csv');
      expect((await waitForJob(svc, job.id))['status']).to.equal('succeeded');
      const rows = await svc.fetch(`/v1/jobs/${job.id}/outputs/rows`);
      expect(rows.status).to.equal(200);
      expect(rows.headers.get('content-type')).to.match(/ndjson/);
      expect(rows.headers.get('content-disposition')).to.contain('rows.ndjson');
      expect(await rows.text()).to.equal('{"a":"1"}\n{"a":"2"}\n');
      const manifest = await svc.fetch(`/v1/jobs/${job.id}/outputs/manifest`);
      expect(manifest.headers.get('content-type')).to.match(/^application\/json/);
      expect(await manifest.json()).to.deep.equal({ jobId: job.id, rows: 2 });
      expect((await svc.fetch(`/v1/jobs/${job.id}/outputs/rejects`)).status).to.equal(200);
    });

    it('should answer 404 for an unknown output name, a job not succeeded, and an unknown job', async () => {
      const ok = await trigger('ok/b.csv');
      await waitForJob(svc, ok.id);
      const failed = await trigger('fail/b.csv');
      await waitForJob(svc, failed.id);
      for (const path of [
        `/v1/jobs/${ok.id}/outputs/other`,
        `/v1/jobs/${failed.id}/outputs/rows`,
        '/v1/jobs/3f1c7a52-52a4-4a5a-9b8b-8f6f0f0f0f0f/outputs/rows',
      ]) {
        const response = await svc.fetch(path);
        expect(response.status, path).to.equal(404);
        expect(((await response.json()) as { error: { code: string } }).error.code).to.equal('not_found');
      }
    });
  });

  describe('GET /v1/jobs/:id/outputs/:name with clients that stop reading', () => {
    const stalled: http.ClientRequest[] = [];
    afterEach(() => {
      for (const request of stalled.splice(0)) request.destroy();
    });

    /** A download whose client reads the headers, then nothing. */
    const stall = (path: string) =>
      new Promise<http.IncomingMessage>((resolve, reject) => {
        const request = http.get(new URL(path, svc.url), (response) => {
          response.pause();
          resolve(response);
        });
        request.on('error', reject);
        stalled.push(request);
      });

    it('should cap downloads (503 server_busy with Retry-After) on sockets of their own, so triggers still HEAD and uploads still store', async () => {
      const job = await trigger('ok/big.csv');
      const done = await waitForJob(svc, job.id);
      // A rows output far bigger than socket buffers hold: a download nobody reads keeps its S3 response open.
      const { bucket, rows } = done['output'] as { bucket: string; rows: string };
      await svc.service.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: rows, Body: Buffer.alloc(32 * 1024 * 1024, 'x') }),
      );

      // 20 stalled downloads, more than the 16 sockets the triggers' and uploads' client has; each answered,
      // or still waiting for a socket after 2 s.
      const answers: http.IncomingMessage[] = [];
      for (let i = 0; i < 20; i += 1)
        void stall(`/v1/jobs/${job.id}/outputs/rows`).then((response) => answers.push(response));
      for (const deadline = Date.now() + 2_000; answers.length < 20 && Date.now() < deadline;)
        await new Promise((resolve) => setTimeout(resolve, 20));

      // The trigger's HEAD check still runs (a missing key is 404 at once, not accepted unchecked)...
      const missing = await postTrigger(svc, { key: 'ok/missing.csv' });
      expect(missing.status, JSON.stringify(missing.body)).to.equal(404);
      expect(missing.body.error.code).to.equal('no_such_key');
      // ...an upload still stores its file...
      const form = new FormData();
      form.append('key', 'stalled/upload.csv');
      form.append('process', 'false');
      form.append('file', new Blob(['a,b\n1,2\n']), 'upload.csv');
      const upload = await svc.fetch('/v1/uploads', { method: 'POST', body: form });
      expect(upload.status, await upload.clone().text()).to.equal(201);
      // ...and downloads past the cap are refused, not queued.
      const statuses = answers.map((response) => response.statusCode);
      expect(
        statuses.filter((status) => status === 200),
        'downloads streaming',
      ).to.have.length(8);
      expect(
        statuses.filter((status) => status === 503),
        'downloads refused',
      ).to.have.length(12);
      const refused = answers.find((response) => response.statusCode === 503)!;
      expect(refused.headers['retry-after']).to.equal('5');
      expect((JSON.parse(await text(refused)) as { error: { code: string } }).error.code).to.equal('server_busy');
    });
  });

  describe('GET /v1/jobs/:id', () => {
    it('should answer one job with its recorded error once failed', async () => {
      const job = await trigger('fail/c.csv');
      const done = await waitForJob(svc, job.id);
      expect(done).to.include({ id: job.id, status: 'failed' });
      expect(done['error']).to.deep.equal({
        code: 'csv_invalid',
        message: 'Unterminated quote at line 3.',
        retryable: false,
      });
    });
  });

  describe('DELETE /v1/jobs/:id', () => {
    it('should cancel a running job and a queued one with 202, and answer 409 once finished', async () => {
      const running = await trigger('hang/running.csv');
      await waitForJob(svc, running.id, (job) => job['status'] === 'running');
      const queued = await trigger('hang/queued.csv');
      for (const job of [running, queued]) {
        const response = await svc.fetch(`/v1/jobs/${job.id}`, { method: 'DELETE' });
        expect(response.status).to.equal(202);
        expect(((await response.json()) as Job).status).to.equal('cancelled');
      }
      const again = await svc.fetch(`/v1/jobs/${running.id}`, { method: 'DELETE' });
      expect(again.status).to.equal(409);
      expect(((await again.json()) as { error: { code: string } }).error.code).to.equal('job_finished');
      expect((await svc.fetch('/v1/jobs/3f1c7a52-52a4-4a5a-9b8b-8f6f0f0f0f0f', { method: 'DELETE' })).status).to.equal(
        404,
      );
    });
  });

  describe('GET /v1/jobs', () => {
    it('should list newest first, filter by status, and page with an opaque cursor', async () => {
      const keys = ['hang/p1.csv', 'hang/p2.csv', 'hang/p3.csv'];
      for (const key of keys) await trigger(key);
      const first = (await (await svc.fetch('/v1/jobs?limit=2')).json()) as { jobs: Job[]; next: string | null };
      expect(first.jobs.map((job) => job.source.key)).to.deep.equal(['hang/p3.csv', 'hang/p2.csv']);
      expect(first.next).to.be.a('string');
      const second = (await (await svc.fetch(`/v1/jobs?limit=2&cursor=${encodeURIComponent(first.next!)}`)).json()) as {
        jobs: Job[];
      };
      expect(second.jobs[0]!.source.key).to.equal('hang/p1.csv');
      const failed = (await (await svc.fetch('/v1/jobs?status=failed')).json()) as { jobs: Job[]; next: string | null };
      expect(failed.jobs.length).to.be.greaterThan(0);
      expect(failed.jobs.every((job) => job.status === 'failed')).to.equal(true);
      const all = (await (await svc.fetch('/v1/jobs')).json()) as { jobs: Job[]; next: string | null };
      expect(all.next).to.equal(null);
    });

    for (const query of [
      'limit=0',
      'limit=1001',
      'limit=abc',
      'limit=1.5',
      'limit=',
      'status=done',
      'status=queued&status=running',
      'cursor=not-ours',
      'cursor=',
      'sort=asc',
    ]) {
      it(`should answer ?${query} with 400 validation_failed`, async () => {
        const response = await svc.fetch(`/v1/jobs?${query}`);
        expect(response.status).to.equal(400);
        expect(((await response.json()) as { error: { code: string } }).error.code).to.equal('validation_failed');
      });
    }

    it('should accept limit=1000', async () => {
      expect((await svc.fetch('/v1/jobs?limit=1000')).status).to.equal(200);
    });
  });
});
