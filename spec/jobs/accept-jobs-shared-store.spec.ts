import { expect } from 'chai';
import { createAcceptJobs, type AcceptJobs } from '../../src/jobs/accept-jobs.ts';
import type { Job } from '../../src/jobs/job.ts';
import { createPostgresJobStore, type PostgresJobStore } from '../../src/jobs/postgres-job-store.ts';
import { createJobQueue } from '../../src/pipeline/job-queue.ts';
import { startTestPostgres, type TestPostgres } from '../helpers/test-postgres.ts';

describe('createAcceptJobs (two instances on one PostgreSQL store)', function () {
  this.timeout(60_000);
  let postgres: TestPostgres;
  const stores: PostgresJobStore[] = [];

  before(async () => {
    postgres = await startTestPostgres();
  });
  after(async () => {
    for (const store of stores.splice(0)) await store.close();
    await postgres.close();
  });

  const instance = async (url: string): Promise<AcceptJobs> => {
    const store = await createPostgresJobStore({ url, onPoolError: () => undefined });
    stores.push(store);
    return createAcceptJobs({
      store,
      queue: createJobQueue<Job>({ capacity: 1000 }),
      allowedBuckets: ['ingest'],
      reservedPrefix: 'processed/',
      headObject: () => Promise.reject(new Error('every request names its ETag')),
      resolvePipeline: () => 'default',
      accepting: () => true,
    });
  };

  it('should answer the same object sent to both at once with one job, the other trigger getting it as the duplicate', async () => {
    const url = await postgres.createDatabase();
    const [a, b] = [await instance(url), await instance(url)];
    for (let n = 0; n < 40; n += 1) {
      const request = { bucket: 'ingest', key: `race/${n}.csv`, etag: `"e${n}"` };
      const [fromA, fromB] = await Promise.all([a([request], 'rest'), b([request], 's3-event')]);
      expect(fromA[0]!.id, `object ${n}`).to.equal(fromB[0]!.id);
      expect([fromA[0]!.duplicate, fromB[0]!.duplicate].sort(), `object ${n}`).to.deep.equal([false, true]);
    }
  });
});
