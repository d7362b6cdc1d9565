import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import pg from 'pg';
import { postTrigger } from '../helpers/post-trigger.ts';
import { startTestPostgres, type TestPostgres } from '../helpers/test-postgres.ts';
import { startTestS3, type TestS3 } from '../helpers/test-s3.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/test-service.ts';

describe('startService with DATABASE_URL', function () {
  let postgres: TestPostgres;
  let s3: TestS3;
  const services: TestService[] = [];
  const start = async (url: string, instanceId: string) => {
    const svc = await startTestService({
      env: {
        DATABASE_URL: url,
        S3_ENDPOINT: s3.endpoint,
        S3_FORCE_PATH_STYLE: 'true',
        INSTANCE_ID: instanceId,
        JOB_CONCURRENCY: '2',
      },
    });
    services.push(svc);
    return svc;
  };

  before(async function () {
    this.timeout(60_000);
    [postgres, s3] = await Promise.all([startTestPostgres(), startTestS3()]);
    await s3.client.send(new PutObjectCommand({ Bucket: 'ingest', Key: 'shared/a.csv', Body: 'k,v\nx,1\ny,2\n' }));
  });
  after(async () => {
    await Promise.all([postgres.close(), s3.close()]);
  });
  afterEach(async () => {
    for (const svc of services.splice(0)) await svc.stop();
  });

  it('should keep its jobs in PostgreSQL, with the instance that ran each as its runner', async () => {
    const url = await postgres.createDatabase();
    const a = await start(url, 'spec-a');
    const accepted = (await postTrigger(a, { key: 'shared/a.csv' })).body.jobs[0];
    expect(accepted).to.include({ status: 'queued', runner: null });
    const done = await waitForJob(a, accepted.id);
    expect(done).to.include({ status: 'succeeded', runner: 'spec-a', attempts: 1 });
    expect(done['progress']).to.include({ rows: 2, rejected: 0 });

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ status: string; runner: string }>(
      "SELECT status, data->>'runner' AS runner FROM jobs WHERE id = $1",
      [accepted.id],
    );
    await client.end();
    expect(rows).to.deep.equal([{ status: 'succeeded', runner: 'spec-a' }]);

    // Another instance on the same database answers for the job, and knows it as a duplicate.
    const b = await start(url, 'spec-b');
    expect(await (await b.fetch(`/v1/jobs/${accepted.id}`)).json()).to.deep.equal(done);
    expect((await postTrigger(b, { key: 'shared/a.csv' })).body.jobs[0]).to.include({
      id: accepted.id,
      duplicate: true,
    });
  });
});
