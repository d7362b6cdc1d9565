import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pacedJob } from '../../helpers/paced-job.ts';
import { postTrigger } from '../../helpers/post-trigger.ts';
import { startTestService, waitForJob, type TestService } from '../../helpers/test-service.ts';

describe('POST /v1/trigger (running an object again)', () => {
  describe('with the CSV job', () => {
    let svc: TestService;
    before(async () => {
      const pipelines = path.join(os.tmpdir(), `trigger-force-${process.pid}.json`);
      await writeFile(pipelines, JSON.stringify({ pipelines: [{ name: 'typed', columns: { v: 'integer' } }] }));
      svc = await startTestService({ embeddedS3Events: false, env: { PIPELINES_FILE: pipelines } });
      await svc.service.s3.send(
        new PutObjectCommand({ Bucket: 'ingest', Key: 'again/a.csv', Body: 'k,v\nx,1\ny,two\n' }),
      );
    });
    after(async () => svc.stop());

    it('should run a succeeded object again with force: true, and answer the duplicate without it', async () => {
      const first = (await postTrigger(svc, { key: 'again/a.csv' })).body.jobs[0];
      const firstDone = await waitForJob(svc, first.id);
      expect(firstDone).to.include({ status: 'succeeded' });

      const plain = await postTrigger(svc, { key: 'again/a.csv' });
      expect(plain.body.jobs[0]).to.include({ id: first.id, duplicate: true });

      const forced = await postTrigger(svc, { key: 'again/a.csv', force: true });
      expect(forced.status).to.equal(202);
      const second = forced.body.jobs[0];
      expect(second).to.include({ status: 'queued', duplicate: false, pipeline: 'default' });
      expect(second.id).not.to.equal(first.id);
      const done = await waitForJob(svc, second.id);
      expect(done).to.include({ status: 'succeeded' });
      expect(done['output'], 'the same output keys, written again').to.deep.equal(firstDone['output']);

      // The newest succeeded job is now the one a plain trigger answers with.
      expect((await postTrigger(svc, { key: 'again/a.csv' })).body.jobs[0]).to.include({
        id: second.id,
        duplicate: true,
      });
    });

    it('should treat the same object under another pipeline as a new job, and a repeat of that as its duplicate', async () => {
      const typed = (await postTrigger(svc, { key: 'again/a.csv', pipeline: 'typed' })).body.jobs[0];
      expect(typed).to.include({ duplicate: false, pipeline: 'typed' });
      const finished = await waitForJob(svc, typed.id);
      expect(finished['progress']).to.include({ rows: 1, rejected: 1 });
      expect((await postTrigger(svc, { key: 'again/a.csv', pipeline: 'typed' })).body.jobs[0]).to.include({
        id: typed.id,
        duplicate: true,
      });
    });

    it('should refuse force that is not a boolean', async () => {
      const answer = await postTrigger(svc, { key: 'again/a.csv', force: 'yes' });
      expect(answer.status).to.equal(400);
      expect(answer.body.error.code).to.equal('validation_failed');
    });
  });

  describe('while the job still runs', () => {
    let svc: TestService;
    before(async () => {
      svc = await startTestService({
        embeddedS3Events: false,
        runJob: pacedJob({ everyMs: 50, updates: Infinity }),
        env: { SHUTDOWN_TIMEOUT_MS: '0' },
      });
      await svc.service.s3.send(new PutObjectCommand({ Bucket: 'ingest', Key: 'again/long.csv', Body: 'k\n1\n' }));
    });
    after(async () => svc.stop());

    it('should answer force: true with the queued or running job, and start nothing', async () => {
      const first = (await postTrigger(svc, { key: 'again/long.csv' })).body.jobs[0];
      await waitForJob(svc, first.id, (job) => job['status'] === 'running');
      const forced = await postTrigger(svc, { key: 'again/long.csv', force: true });
      expect(forced.body.jobs[0]).to.include({ id: first.id, duplicate: true, status: 'running' });
      const list = (await (await svc.fetch('/v1/jobs')).json()) as { jobs: unknown[] };
      expect(list.jobs).to.have.length(1);
    });
  });
});
