import { expect } from 'chai';
import { createJobWrites } from '../../src/jobs/create-job-writes.ts';
import type { JobPatch, JobStore } from '../../src/jobs/job-store.ts';
import { captureLogs } from '../helpers/capture-logs.ts';
import { createMemoryJobStore } from '../helpers/memory-job-store.ts';
import { translatePostgresError } from '../../src/jobs/translate-postgres-error.ts';
import { queuedJob } from '../helpers/queued-job.ts';

const output = { bucket: 'ingest', rows: 'p/rows.ndjson', rejects: 'p/rejects.ndjson', manifest: 'p/manifest.json' };
const progress = (rows: number) => ({ bytesRead: rows * 10, totalBytes: 100, rows, rejected: 0 });

/**
 * A memory store that can be switched unreachable: its updates then fail as the
 * PostgreSQL store's do when the server refuses connections. Every update that
 * reaches it is kept, in order.
 */
function outageStore() {
  const store = createMemoryJobStore();
  const applied: { id: string; patch: JobPatch }[] = [];
  let down = false;
  const update: JobStore['update'] = async (id, patch) => {
    if (down) {
      const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      throw translatePostgresError(refused, 'update a job');
    }
    applied.push({ id, patch });
    return store.update(id, patch);
  };
  return {
    store: { ...store, update },
    applied,
    setDown: (value: boolean) => {
      down = value;
    },
  };
}

describe('createJobWrites', () => {
  it('should leave alone a job that ended otherwise (cancelled) or that another instance took over', async () => {
    const store = createMemoryJobStore();
    const [cancelled, takenOver] = [
      queuedJob({ status: 'cancelled', runner: 'here', finishedAt: '2026-01-01T00:00:00.000Z' }),
      queuedJob({ status: 'running', runner: 'there', attempts: 2 }),
    ];
    await store.insert([cancelled, takenOver]);
    const { logger } = captureLogs();
    const writes = createJobWrites({ store, logger, condition: { unfinished: true, runner: 'here' } });
    writes.write(cancelled.id, { status: 'succeeded', finishedAt: '2026-01-02T00:00:00.000Z', output });
    writes.write(takenOver.id, { status: 'succeeded', attempts: 1, finishedAt: '2026-01-02T00:00:00.000Z', output });
    expect(await writes.settled(1_000)).to.equal(true);
    expect(await store.get(cancelled.id)).to.deep.equal(cancelled);
    expect(await store.get(takenOver.id)).to.deep.equal(takenOver);
  });

  it('should hold the writes while the store is unreachable, then record each job in order, progress merged', async () => {
    const { store, applied, setDown } = outageStore();
    const { logger, lines } = captureLogs();
    const [a, b] = [queuedJob(), queuedJob()];
    await store.insert([a, b]);
    const writes = createJobWrites({ store, logger });
    setDown(true);
    writes.write(a.id, { status: 'running', attempts: 1, runner: 'spec-1' });
    writes.write(b.id, { status: 'running', attempts: 1, runner: 'spec-1' });
    for (let rows = 1; rows <= 50; rows += 1) writes.write(a.id, { progress: progress(rows) });
    writes.write(a.id, { status: 'succeeded', finishedAt: '2026-01-02T00:00:00.000Z', output });
    writes.write(b.id, { progress: progress(3) });
    expect(await writes.settled(300), 'nothing lands while the store is away').to.equal(false);
    expect(applied).to.deep.equal([]);
    expect(
      lines.find((line) => line['message'] === 'the job store is unreachable; job writes wait and are tried again'),
    ).to.exist;

    setDown(false);
    expect(await writes.settled(5_000)).to.equal(true);
    expect(await store.get(a.id)).to.deep.include({
      status: 'succeeded',
      attempts: 1,
      runner: 'spec-1',
      output,
      progress: progress(50),
    });
    expect(await store.get(b.id)).to.deep.include({ status: 'running', progress: progress(3) });
    // The write that failed went out first, with everything written for its job since merged into it.
    expect(applied.map((write) => write.id)).to.deep.equal([a.id, b.id]);
    expect(lines.find((line) => line['message'] === 'the job store answers again; waiting job writes go out')).to.exist;
  });

  it('should keep a job status written while its earlier write is being tried, after that write', async () => {
    const { store, applied, setDown } = outageStore();
    const { logger } = captureLogs();
    const a = queuedJob();
    await store.insert([a]);
    const writes = createJobWrites({ store, logger });
    setDown(true);
    writes.write(a.id, { status: 'running', attempts: 2 });
    // The first try is under way (and fails); the final status arrives behind it.
    await new Promise((resolve) => setTimeout(resolve, 20));
    writes.write(a.id, { status: 'failed', error: { code: 'csv_invalid', message: 'line 3', retryable: false } });
    setDown(false);
    expect(await writes.settled(5_000)).to.equal(true);
    expect(await store.get(a.id)).to.deep.include({ status: 'failed', attempts: 2 });
    expect(applied).to.have.length(1);
  });

  it('should let a new job progress go past maxWaitingJobs, and never a status', async () => {
    const { store, setDown } = outageStore();
    const { logger, lines } = captureLogs();
    const jobs = [queuedJob(), queuedJob(), queuedJob(), queuedJob()];
    await store.insert(jobs);
    const writes = createJobWrites({ store, logger, maxWaitingJobs: 2 });
    setDown(true);
    writes.write(jobs[0]!.id, { progress: progress(1) });
    writes.write(jobs[1]!.id, { progress: progress(1) });
    writes.write(jobs[2]!.id, { progress: progress(1) });
    writes.write(jobs[3]!.id, { status: 'succeeded', output });
    setDown(false);
    expect(await writes.settled(5_000)).to.equal(true);
    expect((await store.get(jobs[1]!.id))?.progress).to.deep.equal(progress(1));
    expect((await store.get(jobs[2]!.id))?.progress, 'let go').to.deep.equal(jobs[2]!.progress);
    expect(await store.get(jobs[3]!.id)).to.deep.include({ status: 'succeeded', output });
    expect(
      lines.find(
        (line) => line['message'] === 'progress of some jobs was not recorded: too many jobs had writes waiting',
      ),
    ).to.deep.include({ dropped: 1 });
  });

  it('should log and drop a write the store refuses for another reason, and go on with the next', async () => {
    const { logger, lines } = captureLogs();
    const memory = createMemoryJobStore();
    const a = queuedJob();
    await memory.insert([a]);
    const store: Pick<JobStore, 'update'> = {
      update: async (id, patch) => {
        if (patch.status === 'running') throw new Error('value too long for type character varying(8)');
        return memory.update(id, patch);
      },
    };
    const writes = createJobWrites({ store, logger });
    writes.write(a.id, { status: 'running' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    writes.write(a.id, { status: 'succeeded', output });
    expect(await writes.settled(1_000)).to.equal(true);
    expect(await memory.get(a.id)).to.deep.include({ status: 'succeeded' });
    expect(lines.find((line) => line['message'] === 'could not record a job change')).to.deep.include({
      jobId: a.id,
      level: 'error',
    });
  });

  it('should stop trying when closed, and say how many jobs still waited', async () => {
    const { store, setDown } = outageStore();
    const { logger } = captureLogs();
    const a = queuedJob();
    await store.insert([a]);
    const writes = createJobWrites({ store, logger });
    setDown(true);
    writes.write(a.id, { status: 'succeeded', output });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(writes.close()).to.equal(1);
    setDown(false);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await store.get(a.id))?.status).to.equal('queued');
  });
});
