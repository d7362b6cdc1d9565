import { expect } from 'chai';
import pg from 'pg';
import { jobIdentity } from '../../src/jobs/job-store.ts';
import { POSTGRES_SCHEMA_VERSION } from '../../src/jobs/migrate-postgres.ts';
import { createPostgresJobStore, PRUNE_LOCK, type PostgresJobStore } from '../../src/jobs/postgres-job-store.ts';
import { translatePostgresError } from '../../src/jobs/translate-postgres-error.ts';
import { queuedJob } from '../helpers/queued-job.ts';
import { rejectionOf } from '../helpers/rejection-of.ts';
import { startTestPostgres, type TestPostgres } from '../helpers/test-postgres.ts';

async function query<R extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

describe('createPostgresJobStore', function () {
  let postgres: TestPostgres;
  let url: string;
  const open: PostgresJobStore[] = [];
  const poolErrors: Error[] = [];
  const openStore = async () => {
    const store = await createPostgresJobStore({ url, onPoolError: (error) => poolErrors.push(error) });
    open.push(store);
    return store;
  };

  before(async function () {
    this.timeout(60_000);
    postgres = await startTestPostgres();
  });
  after(async () => {
    await postgres.close();
  });
  beforeEach(async () => {
    url = await postgres.createDatabase();
    poolErrors.length = 0;
  });
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
  });

  it('should migrate once when several instances start at the same moment', async () => {
    const stores = await Promise.all(Array.from({ length: 5 }, () => openStore()));
    expect(await query(url, 'SELECT version FROM job_store_schema')).to.deep.equal([
      { version: POSTGRES_SCHEMA_VERSION },
    ]);
    const a = queuedJob();
    await stores[0]!.insert([a]);
    expect((await stores[4]!.get(a.id))?.id, 'one table for all').to.equal(a.id);
  });

  it('should refuse a database written by a newer version with config_invalid', async () => {
    await (await openStore()).close();
    await query(url, 'UPDATE job_store_schema SET version = $1', [POSTGRES_SCHEMA_VERSION + 1]);
    const error = await rejectionOf(openStore());
    expect(error).to.have.property('code', 'config_invalid');
    expect((error as Error).message).to.include(`schema ${POSTGRES_SCHEMA_VERSION + 1}`);
  });

  it('should make one job when two instances insert the same object at once', async () => {
    const [first, second] = await Promise.all([openStore(), openStore()]);
    const a = queuedJob({ key: 'same.csv', etag: '"e1"' });
    const b = queuedJob({ key: 'same.csv', etag: '"e1"' });
    const results = await Promise.allSettled([first!.insert([a]), second!.insert([b])]);
    expect(results.map((result) => result.status).sort()).to.deep.equal(['fulfilled', 'rejected']);
    const refused = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).to.have.property('code', 'duplicate_job');
    const rows = await query<{ id: string }>(url, 'SELECT id FROM jobs');
    expect(rows).to.have.length(1);
    expect((await second!.findActive(jobIdentity(a)!))?.id).to.equal(rows[0]!.id);
  });

  it('should refuse to make a finished job of an identity queued again while another is queued', async () => {
    const store = await openStore();
    const a = queuedJob({ key: 'again.csv', etag: '"e1"' });
    const b = queuedJob({ key: 'again.csv', etag: '"e1"' });
    await store.insert([a]);
    await store.update(a.id, { status: 'failed' });
    await store.insert([b]);
    expect(await rejectionOf(store.update(a.id, { status: 'queued' }))).to.include({ code: 'duplicate_job' });
    expect(await store.get(a.id)).to.include({ status: 'failed' });
  });

  it('should queue at most queueCapacity jobs across stores inserting at once, refusing the rest with queue_full', async () => {
    const stores = [
      await createPostgresJobStore({ url, queueCapacity: 5, onPoolError: (error) => poolErrors.push(error) }),
      await createPostgresJobStore({ url, queueCapacity: 5, onPoolError: (error) => poolErrors.push(error) }),
    ];
    open.push(...stores);
    await stores[0]!.insert([queuedJob({ status: 'running' }), queuedJob({ status: 'succeeded' })]);
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        stores[i % 2]!.insert([queuedJob()]).then(
          () => 'stored',
          (error: { code?: string; headers?: unknown }) => `${error.code} ${JSON.stringify(error.headers)}`,
        ),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === 'stored')).to.have.length(5);
    expect(outcomes.filter((outcome) => outcome !== 'stored')).to.deep.equal(
      Array(7).fill('queue_full {"Retry-After":"5"}'),
    );
    // All or none: a batch larger than the room left is refused whole.
    await stores[1]!.update((await stores[1]!.unfinished()).find((job) => job.status === 'queued')!.id, {
      status: 'running',
    });
    expect(await rejectionOf(stores[0]!.insert([queuedJob(), queuedJob()]))).to.have.property('code', 'queue_full');
    await stores[0]!.insert([queuedJob()]);
    expect(await query(url, "SELECT count(*)::int AS n FROM jobs WHERE status = 'queued'")).to.deep.equal([{ n: 5 }]);
  });

  it('should prune each old job once when two instances prune at once, and skip while another prunes', async () => {
    const [a, b] = [await openStore(), await openStore()];
    const finished = (daysAgo: number) =>
      queuedJob({ status: 'succeeded', finishedAt: new Date(Date.now() - daysAgo * 86_400_000).toISOString() });
    const old = Array.from({ length: 40 }, () => finished(40));
    const recent = finished(1);
    await a.insert([...old, recent, queuedJob()]);
    const before = new Date(Date.now() - 30 * 86_400_000);

    // Another instance is pruning: this one skips its round.
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    await other.query('SELECT pg_advisory_lock($1)', [PRUNE_LOCK]);
    try {
      expect(await a.prune(before)).to.equal(0);
    } finally {
      await other.end();
    }
    expect(await query(url, 'SELECT count(*)::int AS n FROM jobs')).to.deep.equal([{ n: 42 }]);

    const pruned = await Promise.all([a.prune(before), b.prune(before), a.prune(before), b.prune(before)]);
    expect(pruned.reduce((sum, n) => sum + n, 0)).to.equal(40);
    expect((await a.list({ limit: 10 })).jobs.map((job) => job.id).sort()).to.have.members(
      [recent.id, (await a.unfinished())[0]!.id].sort(),
    );
  });

  it('should survive its idle connections being cut, reporting them to onPoolError', async () => {
    const store = await openStore();
    await Promise.all([store.ping(), store.ping(), store.ping()]);
    const database = new URL(url).pathname.slice(1);
    const cut = await query<{ cut: boolean }>(
      postgres.adminUrl,
      'SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [database],
    );
    expect(cut.length).to.be.greaterThan(0);
    const deadline = Date.now() + 5_000;
    while (poolErrors.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(poolErrors.length).to.be.greaterThan(0);
    const a = queuedJob();
    await store.insert([a]);
    expect((await store.get(a.id))?.id).to.equal(a.id);
  });

  it('should name a database it cannot reach store_unavailable (503, Retry-After), and a bad statement internal', async () => {
    const { port } = new URL(postgres.adminUrl);
    const refused = await driverRejection(
      new pg.Client({ connectionString: url.replace(`:${port}/`, ':1/') }).connect(),
    );
    const cutOff = new pg.Client({ connectionString: url });
    cutOff.on('error', () => undefined);
    await cutOff.connect();
    const { rows } = await cutOff.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const sleeping = driverRejection(cutOff.query('SELECT pg_sleep(10)'));
    await query(postgres.adminUrl, 'SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    const terminated = await sleeping;
    expect(terminated).to.have.property('code', '57P01');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const syntax = await driverRejection(client.query('SELEC 1'));
    await client.end();

    for (const cause of [refused, terminated]) {
      const error = translatePostgresError(cause, 'read a job');
      expect(error).to.include({ code: 'store_unavailable', status: 503, retryable: true });
      expect(error.headers).to.deep.equal({ 'Retry-After': '5' });
      expect(error.message).to.match(/^The job store cannot be reached to read a job \(/);
    }
    expect(translatePostgresError(syntax, 'read a job')).to.include({ code: 'internal', status: 500 });
  });

  it('should fail to start, naming DATABASE_URL, when the database cannot be reached', async () => {
    const { port } = new URL(postgres.adminUrl);
    const unreachable = url.replace(`:${port}/`, ':1/');
    const error = await rejectionOf(createPostgresJobStore({ url: unreachable, onPoolError: () => {} }));
    expect(error).to.have.property('code', 'internal');
    expect((error as Error).message).to.include('DATABASE_URL');
  });

  it('should answer ping false once closed, and close twice without harm', async () => {
    const store = await openStore();
    await store.close();
    await store.close();
    expect(await store.ping()).to.equal(false);
  });
});

/** What the driver rejects with (not an AppError: the store translates it). */
async function driverRejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}
