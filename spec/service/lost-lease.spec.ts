import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import pg from 'pg';
import { filter, firstValueFrom } from 'rxjs';
import type { JobLifecycleEvent } from '../../src/jobs/job.ts';
import { generateCsv, unfinishedUploads } from '../helpers/csv-job-fixture.ts';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { postTrigger } from '../helpers/post-trigger.ts';
import { startTestPostgres, type TestPostgres } from '../helpers/test-postgres.ts';
import { startTestS3, type TestS3 } from '../helpers/test-s3.ts';
import { startTestService, type TestService } from '../helpers/test-service.ts';
import { eventually } from '../faults/fault-fixture.ts';

const MIB = 1024 * 1024;
/** About 6.8 MiB of CSV: its rows take more than one 5 MiB part, so the job writes a multipart upload. */
const CSV = generateCsv(100_000);
const KEY = 'lease/big.csv';
const LEASE_MS = 3_000;

/**
 * A job whose lease is taken away while it runs (another instance claimed it, as
 * happens to a slow instance) stops at once on the instance that lost it: its
 * attempt is unsubscribed, its multipart upload aborted, and that instance
 * writes nothing more to S3 or to the row, which is the other instance's now.
 */
describe('a job that loses its lease', function () {
  this.timeout(60_000);
  let postgres: TestPostgres;
  let s3: TestS3;
  let proxy: FaultProxy;
  let svc: TestService | undefined;
  let db: pg.Client | undefined;

  before(async () => {
    [postgres, s3] = await Promise.all([startTestPostgres(), startTestS3()]);
    proxy = await startFaultProxy({ port: s3.server.port });
    await s3.client.send(new PutObjectCommand({ Bucket: 'ingest', Key: KEY, Body: CSV }));
  });
  after(async () => {
    await svc?.stop();
    await db?.end();
    await proxy.close();
    await Promise.all([postgres.close(), s3.close()]);
  });

  it('should stop at once, abort its uploads and record nothing more on the row', async () => {
    const url = await postgres.createDatabase();
    // The job's first part upload waits here: the job is mid-way, its multipart upload open.
    const parts = proxy.holdUntilReleased(
      (request) => request.method === 'PUT' && request.path.includes('partNumber='),
    );
    svc = await startTestService({
      env: {
        DATABASE_URL: url,
        S3_ENDPOINT: proxy.endpoint,
        S3_FORCE_PATH_STYLE: 'true',
        S3_PART_SIZE: String(5 * MIB),
        // One part at a time: with the first part held, the rows output waits and the parse with it, so the
        // job is still mid-way at the takeover. With more parts in flight the whole object can be parsed
        // first, and the rejects output's single PutObject races the takeover.
        S3_QUEUE_SIZE: '1',
        INSTANCE_ID: 'spec-slow',
        JOB_CONCURRENCY: '1',
        JOB_LEASE_MS: String(LEASE_MS),
      },
    });
    const events: JobLifecycleEvent[] = [];
    svc.service.events$.subscribe((event) => events.push(event));
    const answer = await postTrigger(svc, { key: KEY });
    expect(answer.status).to.equal(202);
    const id: string = answer.body.jobs[0].id;
    await parts.arrived;

    // Another instance takes the job over, as a claim of an expired lease does.
    db = new pg.Client({ connectionString: url });
    await db.connect();
    const released = firstValueFrom(svc.service.events$.pipe(filter((event) => event.type === 'released')));
    const takenAt = Date.now();
    const taken = await db.query(
      `UPDATE jobs SET runner = 'spec-thief', lease_expires_at = now() + interval '1 hour',
         data = data || '{"runner": "spec-thief"}' WHERE id = $1 AND status = 'running' AND runner = 'spec-slow'`,
      [id],
    );
    expect(taken.rowCount, 'the job was running on spec-slow').to.equal(1);
    const event = await released;
    const stoppedInMs = Date.now() - takenAt;
    expect(event).to.deep.include({ type: 'released', attempt: 1 });
    expect(event.job.id).to.equal(id);
    expect(stoppedInMs, 'stopped within a third of the lease and a round trip').to.be.lessThan(LEASE_MS / 3 + 500);
    const row = async () => (await db!.query<{ data: unknown }>('SELECT data FROM jobs WHERE id = $1', [id])).rows[0]!;
    const atRelease = await row();
    const requestsAtRelease = proxy.requests.length;
    parts.release();

    // What it wrote before the takeover stays for the new holder, which writes the same keys again.
    await eventually(
      async () => ((await unfinishedUploads(s3.directory)).length === 0 ? true : undefined),
      10_000,
      'its multipart upload aborted',
    );
    await new Promise((resolve) => setTimeout(resolve, 2 * (LEASE_MS / 3)));

    expect(await unfinishedUploads(s3.directory), 'still none two renewals later').to.deep.equal([]);
    const after = proxy.requests.slice(requestsAtRelease).map((request) => `${request.method} ${request.path}`);
    expect(after.length, 'its upload was aborted').to.be.greaterThan(0);
    expect(
      after.filter(
        (line) => !/^DELETE \/ingest\/processed\/ingest\/lease\/big\.csv\/rows\.ndjson\?.*uploadId=/.test(line),
      ),
      'nothing but the abort of its multipart upload once released: no part, no completion, no manifest, no delete',
    ).to.deep.equal([]);
    const manifest = await s3.client
      .send(new HeadObjectCommand({ Bucket: 'ingest', Key: 'processed/ingest/lease/big.csv/manifest.json' }))
      .catch((error: { name?: string }) => error.name);
    expect(manifest, 'no manifest').to.equal('NotFound');
    expect(await row(), 'the row is as the other instance left it').to.deep.equal(atRelease);
    expect(atRelease.data).to.include({ status: 'running', runner: 'spec-thief' });
    const here = events.filter((one) => one.job.id === id).map((one) => one.type);
    expect(here.filter((type) => type !== 'progress')).to.deep.equal(['queued', 'started', 'released']);
    console.log(`      lost lease: stopped ${stoppedInMs} ms after the takeover (lease ${LEASE_MS} ms)`);
  });
});
