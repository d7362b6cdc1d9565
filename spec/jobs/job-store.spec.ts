import Database from 'better-sqlite3';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { JobStatus } from '../../src/jobs/job.ts';
import { jobIdentity, type JobStore } from '../../src/jobs/job-store.ts';
import { createMemoryJobStore } from '../helpers/memory-job-store.ts';
import { createPostgresJobStore } from '../../src/jobs/postgres-job-store.ts';
import { createSqliteJobStore } from '../../src/jobs/sqlite-job-store.ts';
import { queuedJob as job } from '../helpers/queued-job.ts';
import { rejectionOf } from '../helpers/rejection-of.ts';
import { startTestPostgres, type TestPostgres } from '../helpers/test-postgres.ts';

// Started once for this file, only when the PostgreSQL cases run; each test gets its own database.
let postgres: TestPostgres | undefined;

const stores: {
  name: string;
  before?: () => Promise<void>;
  after?: () => Promise<void>;
  open: (dir: string) => JobStore | Promise<JobStore>;
}[] = [
  { name: 'createMemoryJobStore', open: () => createMemoryJobStore() },
  { name: 'createSqliteJobStore', open: (dir) => createSqliteJobStore({ dataDir: dir }) },
  {
    name: 'createPostgresJobStore',
    before: async () => {
      postgres = await startTestPostgres();
    },
    after: async () => {
      await postgres?.close();
    },
    open: async () =>
      createPostgresJobStore({
        url: await postgres!.createDatabase(),
        onPoolError: (error) => {
          throw error;
        },
      }),
  },
];

for (const { name, open, before: setUp, after: tearDown } of stores) {
  describe(name, function () {
    let dir: string;
    let store: JobStore;

    if (setUp !== undefined) {
      before(async function () {
        this.timeout(60_000);
        await setUp();
      });
    }
    if (tearDown !== undefined) after(tearDown);
    beforeEach(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'job-store-'));
      store = await open(dir);
    });
    afterEach(async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('should return an inserted job by id and patch it', async () => {
      const a = job();
      await store.insert([a]);
      expect(await store.get(a.id)).to.deep.equal(a);
      const updated = await store.update(a.id, { status: 'running', attempts: 1 });
      expect(updated).to.include({ status: 'running', attempts: 1 });
      expect(await store.get(a.id)).to.deep.equal(updated);
      expect(await store.update(randomUUID(), { status: 'failed' })).to.equal(undefined);
    });

    it('should patch only while a condition holds: unfinished, held by the runner named', async () => {
      const [a, b] = [job(), job({ status: 'running', runner: 'here' })];
      await store.insert([a!, b!]);
      const finishedAt = new Date().toISOString();
      expect(await store.update(a!.id, { status: 'succeeded', finishedAt }, { unfinished: true })).to.include({
        status: 'succeeded',
      });
      expect(await store.update(a!.id, { status: 'cancelled' }, { unfinished: true }), 'finished').to.equal(undefined);
      expect(await store.get(a!.id)).to.include({ status: 'succeeded', finishedAt });
      expect(await store.update(b!.id, { attempts: 2 }, { runner: 'elsewhere' }), 'not its runner').to.equal(undefined);
      expect(await store.update(b!.id, { attempts: 3 }, { unfinished: true, runner: 'here' })).to.include({
        attempts: 3,
      });
      expect(await store.get(b!.id)).to.include({ status: 'running', attempts: 3 });
    });

    it('should insert all of a batch or none of it', async () => {
      const a = job();
      await store.insert([a]);
      const b = job();
      expect(await rejectionOf(store.insert([b, a]))).to.include({ code: 'internal' });
      expect(await store.get(b.id)).to.equal(undefined);
    });

    it('should list newest first in pages with an opaque cursor, filtered by status', async () => {
      const jobs = Array.from({ length: 5 }, (_, i) =>
        job({ status: (i % 2 === 0 ? 'queued' : 'failed') as JobStatus }),
      );
      await store.insert(jobs);
      const first = await store.list({ limit: 2 });
      expect(first.jobs.map((j) => j.id)).to.deep.equal([jobs[4]!.id, jobs[3]!.id]);
      expect(first.next).to.be.a('string');
      const second = await store.list({ limit: 2, cursor: first.next! });
      expect(second.jobs.map((j) => j.id)).to.deep.equal([jobs[2]!.id, jobs[1]!.id]);
      const third = await store.list({ limit: 2, cursor: second.next! });
      expect(third.jobs.map((j) => j.id)).to.deep.equal([jobs[0]!.id]);
      expect(third.next).to.equal(null);
      const failed = await store.list({ limit: 10, status: 'failed' });
      expect(failed.jobs.map((j) => j.id)).to.deep.equal([jobs[3]!.id, jobs[1]!.id]);
    });

    it('should refuse a cursor it did not issue with validation_failed', async () => {
      let thrown: unknown;
      try {
        await store.list({ limit: 10, cursor: 'bogus' });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.have.property('code', 'validation_failed');
    });

    it('should find the active job of an identity, but not a failed or cancelled one', async () => {
      const a = job({ key: 'same.csv', etag: '"e1"' });
      await store.insert([a]);
      const identity = jobIdentity(a)!;
      expect((await store.findActive(identity))?.id).to.equal(a.id);
      await store.update(a.id, { status: 'succeeded' });
      expect((await store.findActive(identity))?.id).to.equal(a.id);
      expect(
        await store.findActive(jobIdentity({ ...a, pipeline: 'other' })!),
        'another pipeline on the same object',
      ).to.equal(undefined);
      await store.update(a.id, { status: 'failed' });
      expect(await store.findActive(identity)).to.equal(undefined);
      expect(await store.findActive(jobIdentity({ ...a, source: { ...a.source, etag: '"e2"' } })!)).to.equal(undefined);
    });

    it('should keep a succeeded job beside a forced new one, and answer with the queued one', async () => {
      const first = job({ key: 'forced.csv', etag: '"e1"', status: 'succeeded', finishedAt: new Date().toISOString() });
      const second = job({ key: 'forced.csv', etag: '"e1"' });
      await store.insert([first]);
      await store.insert([second]);
      const identity = jobIdentity(first)!;
      expect((await store.findActive(identity))?.id, 'the queued one').to.equal(second.id);
      await store.update(second.id, { status: 'succeeded' });
      expect((await store.findActive(identity))?.id, 'the newest succeeded one').to.equal(second.id);
      const third = job({ key: 'forced.csv', etag: '"e1"', status: 'running' });
      await store.insert([third]);
      expect((await store.findActive(identity))?.id, 'the running one').to.equal(third.id);
    });

    it('should list unfinished jobs oldest first', async () => {
      const [a, b, c] = [job(), job(), job()];
      await store.insert([a!, b!, c!]);
      await store.update(b!.id, { status: 'succeeded' });
      await store.update(c!.id, { status: 'running' });
      expect((await store.unfinished()).map((j) => j.id)).to.deep.equal([a!.id, c!.id]);
    });

    it('should prune finished jobs that finished before a date, and only those', async () => {
      const old = job({ status: 'succeeded', finishedAt: '2020-01-01T00:00:00.000Z' });
      const recent = job({ status: 'failed', finishedAt: new Date().toISOString() });
      const queued = job();
      await store.insert([old, recent, queued]);
      expect(await store.prune(new Date(Date.now() - 86_400_000))).to.equal(1);
      expect(await store.get(old.id)).to.equal(undefined);
      expect(await store.get(recent.id)).to.not.equal(undefined);
      expect(await store.get(queued.id)).to.not.equal(undefined);
    });

    it('should answer ping', async () => {
      expect(await store.ping()).to.equal(true);
    });
  });
}

describe('createSqliteJobStore durability', () => {
  it('should keep jobs across a reopen of the same data directory', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'job-store-'));
    const a = job();
    const first = createSqliteJobStore({ dataDir: dir });
    await first.insert([a]);
    await first.update(a.id, { status: 'running', attempts: 1 });
    await first.close();
    const second = createSqliteJobStore({ dataDir: dir });
    expect(await second.get(a.id)).to.include({ status: 'running', attempts: 1 });
    expect(await second.ping()).to.equal(true);
    await second.close();
    expect(await second.ping()).to.equal(false);
    await rm(dir, { recursive: true, force: true });
  });

  it('should carry a schema-1 store over, its jobs still found as duplicates under the new identity', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'job-store-'));
    const a = job({ key: 'kept.csv', etag: '"e1"' });
    const { runner: _runner, ...withoutRunner } = a;
    // A store as the previous version left it: identity without the pipeline, user_version 1.
    const old = new Database(path.join(dir, 'jobs.sqlite'));
    old.exec(`CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, status TEXT NOT NULL, identity TEXT, finished_at TEXT, data TEXT NOT NULL);
      CREATE INDEX jobs_by_status ON jobs (status, seq);
      CREATE INDEX jobs_by_identity ON jobs (identity) WHERE identity IS NOT NULL;
      CREATE INDEX jobs_by_finish ON jobs (finished_at) WHERE finished_at IS NOT NULL;`);
    old
      .prepare('INSERT INTO jobs (id, status, identity, finished_at, data) VALUES (?, ?, ?, ?, ?)')
      .run(
        a.id,
        'succeeded',
        JSON.stringify([a.source.bucket, a.source.key, a.source.etag]),
        null,
        JSON.stringify({ ...withoutRunner, status: 'succeeded' }),
      );
    old.pragma('user_version = 1');
    old.close();
    const store = createSqliteJobStore({ dataDir: dir });
    expect((await store.findActive(jobIdentity(a)!))?.id).to.equal(a.id);
    expect(await store.get(a.id), 'a job from before runners were named').to.have.property('runner', null);
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
});
