import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import path from 'node:path';
import { filter, firstValueFrom } from 'rxjs';
import { unfinishedUploads } from '../helpers/csv-job-fixture.ts';
import { startTestService, waitForJob } from '../helpers/test-service.ts';
import { eventually, putGenerated } from './fault-fixture.ts';

describe('cancelling a running job through the API', function () {
  this.timeout(120_000);

  it('should stop its worker, abort its multipart uploads and leave no output object', async () => {
    const svc = await startTestService({
      env: { JOB_CONCURRENCY: '1', S3_PART_SIZE: String(5 * 1024 * 1024) },
      embeddedS3Events: false,
    });
    try {
      const s3 = svc.service.s3;
      await putGenerated(s3, svc.dataDir, 24, ['cancel/big.csv']);
      const writing = firstValueFrom(
        svc.service.events$.pipe(filter((e) => e.type === 'progress' && e.progress.rows > 50_000)),
      );
      const response = await svc.fetch('/v1/trigger', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key: 'cancel/big.csv' }),
      });
      const id = ((await response.json()) as { jobs: { id: string }[] }).jobs[0]!.id;
      await writing;

      const cancelled = await svc.fetch(`/v1/jobs/${id}`, { method: 'DELETE' });
      expect(cancelled.status).to.equal(202);
      expect(((await cancelled.json()) as { status: string }).status).to.equal('cancelled');

      const s3Dir = path.join(svc.dataDir, 's3');
      const leftovers = async () => {
        const listed = await s3.send(
          new ListObjectsV2Command({ Bucket: 'ingest', Prefix: 'processed/ingest/cancel/' }),
        );
        return [...(listed.Contents ?? []).map((o) => o.Key), ...(await unfinishedUploads(s3Dir))];
      };
      const started = Date.now();
      await eventually(
        async () => ((await leftovers()).length === 0 ? true : undefined),
        20_000,
        'no output object and no unfinished upload',
      );
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(await leftovers(), 'still nothing a second later').to.deep.equal([]);
      const job = await waitForJob(svc, id);
      expect(job['status']).to.equal('cancelled');
      expect(job['output']).to.equal(null);
      console.log(`      cancel: outputs gone and uploads aborted ${Date.now() - started} ms after DELETE`);

      const again = await svc.fetch(`/v1/jobs/${id}`, { method: 'DELETE' });
      expect(again.status).to.equal(409);
    } finally {
      await svc.stop();
    }
  });
});
