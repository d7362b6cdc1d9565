import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { filter, firstValueFrom } from 'rxjs';
import { createS3Client } from '../../src/storage/create-s3-client.ts';
import { startS3Process } from '../helpers/child-process.ts';
import { startSlowDownProxy } from '../helpers/slow-down-proxy.ts';
import { startTestService, waitForJob } from '../helpers/test-service.ts';
import { countUniqueRows, putGenerated, tempDir } from './fault-fixture.ts';

const client = (endpoint: string) =>
  createS3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, checksums: 'WHEN_REQUIRED' });
const retryEnv = {
  RETRY_BASE_MS: '300',
  RETRY_MAX_MS: '2000',
  JOB_MAX_ATTEMPTS: '6',
  JOB_CONCURRENCY: '1',
  S3_FORCE_PATH_STYLE: 'true',
};

describe('jobs under S3 faults', function () {
  this.timeout(120_000);

  it('should retry with backoff and succeed, each row once, when the S3 server stops mid-job and comes back', async () => {
    const dir = await tempDir('s3-restart');
    let s3 = await startS3Process({ directory: `${dir}/s3` });
    const s3Client = client(s3.endpoint);
    const records = await putGenerated(s3Client, dir, 12, ['faults/restart.csv']);
    const svc = await startTestService({ env: { ...retryEnv, S3_ENDPOINT: s3.endpoint } });
    try {
      const reading = firstValueFrom(
        svc.service.events$.pipe(filter((e) => e.type === 'progress' && e.progress.bytesRead > 0)),
      );
      const response = await svc.fetch('/v1/trigger', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key: 'faults/restart.csv' }),
      });
      const id = ((await response.json()) as { jobs: { id: string }[] }).jobs[0]!.id;
      await reading;
      await s3.kill();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      s3 = await startS3Process({ directory: `${dir}/s3`, port: s3.port });

      const job = await waitForJob(svc, id, undefined, 90_000);
      expect(job['status'], JSON.stringify(job['error'])).to.equal('succeeded');
      expect(job['attempts']).to.be.at.least(2);
      const failures = svc
        .logs()
        .filter((line) => line['message'] === 'job attempt failed; retrying' && line['jobId'] === id);
      expect(failures.map((line) => line['retryable'])).to.include(true);
      const counted = await countUniqueRows(s3Client, 'processed/ingest/faults/restart.csv/rows.ndjson');
      expect(counted).to.deep.equal({ rows: records, unique: records });
      console.log(
        `      S3 restart: ${String(job['attempts'])} attempts, ${records} rows once each, retries after ${failures.map((f) => f['retryInMs']).join('/')} ms`,
      );
    } finally {
      await svc.stop();
      s3Client.destroy();
      await s3.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('should back off while S3 answers 503 SlowDown, then succeed', async () => {
    const dir = await tempDir('slow-down');
    const s3 = await startS3Process({ directory: `${dir}/s3` });
    const s3Client = client(s3.endpoint);
    const records = await putGenerated(s3Client, dir, 1, ['faults/slow.csv']);
    const proxy = await startSlowDownProxy(s3.endpoint);
    const svc = await startTestService({ env: { ...retryEnv, S3_ENDPOINT: proxy.endpoint } });
    try {
      proxy.slowDown(true);
      const response = await svc.fetch('/v1/trigger', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key: 'faults/slow.csv' }),
      });
      expect(response.status, 'accepted although S3 cannot be reached').to.equal(202);
      const id = ((await response.json()) as { jobs: { id: string }[] }).jobs[0]!.id;
      const secondStart = firstValueFrom(
        svc.service.events$.pipe(filter((e) => e.type === 'started' && e.attempt >= 3)),
      );
      await secondStart;
      proxy.slowDown(false);

      const job = await waitForJob(svc, id, undefined, 60_000);
      expect(job['status'], JSON.stringify(job['error'])).to.equal('succeeded');
      const failures = svc
        .logs()
        .filter((line) => line['message'] === 'job attempt failed; retrying' && line['jobId'] === id);
      expect(failures.length).to.be.at.least(2);
      expect(
        failures.every((line) => line['code'] === 's3_throttled'),
        JSON.stringify(failures),
      ).to.equal(true);
      // Backoff visible in attempt times: each retry waited at least half its ceiling (equal jitter).
      const delays = failures.map((line) => Number(line['retryInMs']));
      expect(delays[0]).to.be.within(150, 300);
      expect(delays[1]).to.be.within(300, 600);
      const throttled = proxy.requests.filter((r) => r.injected === 503);
      expect(throttled.length).to.be.at.least(3);
      const counted = await countUniqueRows(s3Client, 'processed/ingest/faults/slow.csv/rows.ndjson');
      expect(counted).to.deep.equal({ rows: records, unique: records });
      console.log(
        `      SlowDown: ${throttled.length} requests answered 503, ${String(job['attempts'])} attempts, retries after ${delays.join('/')} ms`,
      );
    } finally {
      await svc.stop();
      await proxy.close();
      s3Client.destroy();
      await s3.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
