import { expect } from 'chai';
import { Subject } from 'rxjs';
import { feedClaims } from '../../src/jobs/feed-claims.ts';
import type { Job, JobLifecycleEvent, JobRunResult } from '../../src/jobs/job.ts';
import { createPostgresJobClaims } from '../../src/jobs/postgres-job-claims.ts';
import { createPostgresJobStore, type PostgresJobStore } from '../../src/jobs/postgres-job-store.ts';
import { createLogger } from '../../src/logging/create-logger.ts';
import { queuedJob } from '../helpers/queued-job.ts';
import { startTestPostgres, type TestPostgres } from '../helpers/test-postgres.ts';

const LEASE_MS = 900;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('feedClaims', function () {
  let postgres: TestPostgres;
  let store: PostgresJobStore;

  before(async function () {
    this.timeout(60_000);
    postgres = await startTestPostgres();
  });
  after(async () => postgres.close());
  beforeEach(async () => {
    store = await createPostgresJobStore({ url: await postgres.createDatabase(), onPoolError: () => {} });
  });
  afterEach(async () => store.close());

  it('should keep renewing the lease of a job that ended here until its final status is written', async () => {
    const job = queuedJob();
    await store.insert([job]);
    const events = new Subject<JobLifecycleEvent>();
    const enqueued: Job[] = [];
    let writing = true;
    const feed = feedClaims({
      claims: createPostgresJobClaims(store.pool, { runner: 'here', leaseMs: LEASE_MS }),
      queue: { enqueue: (jobs) => void enqueued.push(...jobs), cancel: () => false, release: () => false },
      events$: events,
      concurrency: 1,
      leaseMs: LEASE_MS,
      pollMs: 60_000,
      logger: createLogger({ level: 'error', format: 'json' }),
      writing: () => writing,
    });
    const other = createPostgresJobClaims(store.pool, { runner: 'other', leaseMs: LEASE_MS });
    try {
      feed.wake();
      while (enqueued.length === 0) await sleep(20);
      expect(enqueued.map((one) => one.id)).to.deep.equal([job.id]);
      // It succeeded here, but the store cannot be written (an outage): the row still says running.
      events.next({ type: 'succeeded', job, attempt: 1, result: {} as JobRunResult });
      await sleep(LEASE_MS * 2.5);
      expect(await other.claim(1), 'still leased by the instance that ran it').to.deep.equal([]);

      // Its final status written (here simulated by the flag): renewals stop, the lease runs out.
      writing = false;
      await sleep(LEASE_MS * 2.5);
      expect(
        (await other.claim(1)).map((one) => one.id),
        'no longer renewed',
      ).to.deep.equal([job.id]);
    } finally {
      feed.close();
    }
  });
});
