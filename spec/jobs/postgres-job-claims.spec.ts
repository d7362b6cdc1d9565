import { expect } from 'chai';
import { createPostgresJobClaims } from '../../src/jobs/postgres-job-claims.ts';
import { createPostgresJobStore, type PostgresJobStore } from '../../src/jobs/postgres-job-store.ts';
import { queuedJob as job } from '../helpers/queued-job.ts';
import { startTestPostgres, type TestPostgres } from '../helpers/test-postgres.ts';

describe('createPostgresJobClaims', function () {
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

  it('should hand each queued job to one claimer, oldest first, even when claimers race', async () => {
    const jobs = Array.from({ length: 40 }, job);
    await store.insert(jobs);
    const claimers = ['a', 'b', 'c', 'd'].map((runner) =>
      createPostgresJobClaims(store.pool, { runner, leaseMs: 30_000 }),
    );
    const batches = await Promise.all(
      claimers.flatMap((claimer) => [claimer.claim(3), claimer.claim(3), claimer.claim(3)]),
    );
    const claimed = batches.flat().map((one) => one.id);
    expect(claimed).to.have.length(36);
    expect(new Set(claimed).size, 'no job twice').to.equal(36);
    for (const batch of batches) {
      const order = batch.map((one) => jobs.findIndex((j) => j.id === one.id));
      expect(order, 'a batch is oldest first').to.deep.equal([...order].sort((x, y) => x - y));
    }
    const left = await claimers[0]!.claim(10);
    expect(left.map((one) => one.id).sort(), 'the rest').to.deep.equal(
      jobs
        .map((j) => j.id)
        .filter((id) => !claimed.includes(id))
        .sort(),
    );
    expect(left[0]).to.include({ status: 'running', runner: 'a' });
    expect(await store.get(left[0]!.id)).to.include({ status: 'running', runner: 'a' });
  });

  it('should renew only its own running jobs, and name those cancelled while it ran them', async () => {
    const [a, b, c] = [job(), job(), job()];
    await store.insert([a!, b!, c!]);
    const mine = createPostgresJobClaims(store.pool, { runner: 'mine', leaseMs: 30_000 });
    const theirs = createPostgresJobClaims(store.pool, { runner: 'theirs', leaseMs: 30_000 });
    expect((await mine.claim(2)).map((one) => one.id)).to.deep.equal([a!.id, b!.id]);
    expect((await theirs.claim(2)).map((one) => one.id)).to.deep.equal([c!.id]);
    await store.update(b!.id, { status: 'cancelled', finishedAt: new Date().toISOString() });
    const renewal = await mine.renew([a!.id, b!.id, c!.id]);
    expect([...renewal.held]).to.deep.equal([a!.id]);
    expect([...renewal.cancelled]).to.deep.equal([b!.id]);
    expect([...(await theirs.renew([b!.id, c!.id])).cancelled], 'not theirs to stop').to.deep.equal([]);
    expect(await theirs.claim(5), 'nothing left to claim').to.deep.equal([]);
  });

  it('should let another instance claim a running job once its lease has expired, and not before', async () => {
    const a = job();
    await store.insert([a]);
    const dying = createPostgresJobClaims(store.pool, { runner: 'dying', leaseMs: 2_000 });
    const other = createPostgresJobClaims(store.pool, { runner: 'other', leaseMs: 30_000 });
    expect(await dying.claim(1)).to.have.length(1);
    expect(await other.claim(1), 'lease still held').to.deep.equal([]);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect([...(await dying.renew([a.id])).held], 'renewed in time').to.deep.equal([a.id]);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await other.claim(1), 'the renewal extended it').to.deep.equal([]);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(
      (await other.claim(1)).map((one) => one.id),
      'expired',
    ).to.deep.equal([a.id]);
    expect(await dying.renew([a.id]), 'the old holder lost it').to.deep.equal({
      held: new Set(),
      cancelled: new Set(),
    });
  });
});
