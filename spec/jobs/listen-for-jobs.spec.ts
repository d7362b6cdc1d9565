import { expect } from 'chai';
import pg from 'pg';
import { CANCELS_CHANNEL, JOBS_CHANNEL, listenForJobs, type JobListener } from '../../src/jobs/listen-for-jobs.ts';
import { startTestPostgres, type TestPostgres } from '../helpers/test-postgres.ts';

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('listenForJobs', function () {
  let postgres: TestPostgres;
  let url: string;
  let listener: JobListener | undefined;
  const run = async (text: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(text)).rows;
    } finally {
      await client.end();
    }
  };

  before(async function () {
    this.timeout(60_000);
    postgres = await startTestPostgres();
    url = await postgres.createDatabase();
  });
  after(async () => postgres.close());
  afterEach(async () => listener?.close());

  it('should wake on connecting and on each notification, and listen again after its connection is cut', async () => {
    let wakes = 0;
    const errors: Error[] = [];
    listener = listenForJobs({
      url,
      onWake: () => (wakes += 1),
      onError: (error) => errors.push(error),
      reconnectMs: 100,
    });
    await until(() => wakes === 1, 'the wake-up on connecting');
    await run(`NOTIFY ${JOBS_CHANNEL}`);
    await until(() => wakes === 2, 'a notification');

    const cut = await run(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
    );
    expect(cut).to.have.length(1);
    await until(() => errors.length > 0 && wakes === 3, 'the wake-up on reconnecting');
    await run(`NOTIFY ${JOBS_CHANNEL}`);
    await until(() => wakes === 4, 'a notification after reconnecting');
  });

  it('should hand each cancel notification to onCancel with its job id, without a wake-up', async () => {
    let wakes = 0;
    const cancelled: string[] = [];
    listener = listenForJobs({
      url,
      onWake: () => (wakes += 1),
      onCancel: (id) => cancelled.push(id),
      onError: () => {},
    });
    await until(() => wakes === 1, 'the wake-up on connecting');
    await run(`SELECT pg_notify('${CANCELS_CHANNEL}', 'job-1')`);
    await run(`SELECT pg_notify('${CANCELS_CHANNEL}', 'job-2')`);
    await until(() => cancelled.length === 2, 'two cancels');
    expect(cancelled).to.deep.equal(['job-1', 'job-2']);
    expect(wakes).to.equal(1);
  });
});
