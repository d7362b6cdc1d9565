import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { createS3Client } from '../../src/storage/create-s3-client.ts';
import { startS3Process, startServiceProcess, type Child } from '../helpers/child-process.ts';
import { countUniqueRows, eventually, getJson, postJson, putGenerated, tempDir } from './fault-fixture.ts';

type Service = Child & { url: string };

describe('the service process under signals', function () {
  this.timeout(180_000);
  let dir: string;
  let s3: Awaited<ReturnType<typeof startS3Process>>;
  let s3Client: ReturnType<typeof createS3Client>;
  const services: Service[] = [];

  beforeEach(async () => {
    dir = await tempDir('process-faults');
    s3 = await startS3Process({ directory: path.join(dir, 's3') });
    s3Client = createS3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      checksums: 'WHEN_REQUIRED',
    });
  });
  afterEach(async () => {
    for (const service of services.splice(0)) await service.kill();
    s3Client.destroy();
    await s3.kill();
    await rm(dir, { recursive: true, force: true });
  });

  function start(extra: Record<string, string> = {}): Promise<Service> {
    return startServiceProcess({
      S3_ENDPOINT: s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      DATA_DIR: path.join(dir, 'data'),
      JOB_CONCURRENCY: '1',
      RETRY_BASE_MS: '200',
      ...extra,
    }).then((service) => {
      services.push(service);
      return service;
    });
  }

  const jobOf = (service: Service, id: string) => getJson(`${service.url}/v1/jobs/${id}`);

  it('should finish every accepted job exactly once after a SIGKILL with jobs queued and running', async () => {
    const keys = ['kill/a.csv', 'kill/b.csv', 'kill/c.csv'];
    const records = await putGenerated(s3Client, dir, 4, keys);
    const first = await start();
    const ids: string[] = [];
    for (const key of keys) {
      const { status, body } = await postJson(`${first.url}/v1/trigger`, { key });
      expect(status).to.equal(202);
      ids.push((body['jobs'] as { id: string }[])[0]!.id);
    }
    await eventually(
      async () => ((await jobOf(first, ids[0]!))['status'] === 'running' ? true : undefined),
      30_000,
      'the first job to run',
    );
    await first.kill();

    const second = await start();
    expect(second.lines().some((line) => line['message'] === 'jobs recovered from the last run')).to.equal(true);
    const finished = await eventually(
      async () => {
        const jobs = await Promise.all(ids.map((id) => jobOf(second, id)));
        return jobs.every((job) => job['status'] === 'succeeded') ? jobs : undefined;
      },
      120_000,
      'every job to succeed',
    );
    expect(finished[0]!['attempts'], 'the interrupted attempt counts').to.equal(2);
    const listed = await getJson(`${second.url}/v1/jobs?limit=10`);
    expect((listed['jobs'] as unknown[]).length, 'no job lost or doubled').to.equal(3);
    for (const key of keys) {
      expect(await countUniqueRows(s3Client, `processed/ingest/${key}/rows.ndjson`), key).to.deep.equal({
        rows: records,
        unique: records,
      });
    }
    console.log(
      `      SIGKILL: 3 of 3 jobs succeeded after restart, attempts ${finished.map((j) => String(j['attempts'])).join('/')}, ${records} rows each, once`,
    );
  });

  it('should exit 0 within the timeout on SIGTERM during a job, and finish that job after restart', async () => {
    const records = await putGenerated(s3Client, dir, 24, ['term/big.csv']);
    const first = await start({ SHUTDOWN_TIMEOUT_MS: '500' });
    const { body } = await postJson(`${first.url}/v1/trigger`, { key: 'term/big.csv' });
    const id = (body['jobs'] as { id: string }[])[0]!.id;
    await eventually(
      async () => {
        const job = await jobOf(first, id);
        return (job['progress'] as { bytesRead: number }).bytesRead > 0 ? true : undefined;
      },
      30_000,
      'the job to read bytes',
    );

    const signalled = Date.now();
    first.process.kill('SIGTERM');
    const exit = await first.exited;
    const exitMs = Date.now() - signalled;
    // When this fails, the messages say why (a job that finished inside the grace period, an attempt that failed
    // first).
    const messages = first.lines().map((line) => String(line['message']));
    expect(exit.code, first.stderr()).to.equal(0);
    expect(exitMs).to.be.below(15_000);
    expect(messages, 'the log of the first process').to.include(
      'jobs still running at the end of the grace period were stopped and left queued',
    );

    const second = await start();
    const job = await eventually(
      async () => {
        const current = await jobOf(second, id);
        return current['status'] === 'succeeded' ? current : undefined;
      },
      150_000,
      'the job to succeed after restart',
    );
    expect(job['attempts'], `attempts; first process said: ${messages.join(' | ')}`).to.equal(2);
    expect(await countUniqueRows(s3Client, 'processed/ingest/term/big.csv/rows.ndjson')).to.deep.equal({
      rows: records,
      unique: records,
    });
    console.log(
      `      SIGTERM: exit 0 after ${exitMs} ms (SHUTDOWN_TIMEOUT_MS=500); job succeeded after restart in attempt 2`,
    );
  });
});
