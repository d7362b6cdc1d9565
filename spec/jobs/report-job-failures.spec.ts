import { expect } from 'chai';
import { Subject } from 'rxjs';
import { AppError } from '../../src/errors.ts';
import { createJobWrites } from '../../src/jobs/create-job-writes.ts';
import type { Job, JobLifecycleEvent } from '../../src/jobs/job.ts';
import { createMemoryJobStore } from '../helpers/memory-job-store.ts';
import { recordJobEvents } from '../../src/jobs/record-job-events.ts';
import { reportJobFailures } from '../../src/jobs/report-job-failures.ts';
import { captureLogs } from '../helpers/capture-logs.ts';
import { queuedJob } from '../helpers/queued-job.ts';

const job: Job = queuedJob({
  id: '6f9c1a52-52a4-4a5a-9b8b-8f6f0f0f0f0f',
  key: 'iot/a.csv',
  etag: '"e"',
  createdAt: '2026-01-01T00:00:00.000Z',
});
const output = {
  bucket: 'ingest',
  rows: 'processed/ingest/iot/a.csv/rows.ndjson',
  rejects: 'processed/ingest/iot/a.csv/rejects.ndjson',
  manifest: 'processed/ingest/iot/a.csv/manifest.json',
};
const now = () => new Date('2026-01-02T00:00:00.000Z');

async function setUp() {
  const store = createMemoryJobStore();
  await store.insert([job]);
  const { logger, lines } = captureLogs();
  const events = new Subject<JobLifecycleEvent>();
  const writes = createJobWrites({ store, logger });
  recordJobEvents(events, { writes, runner: 'spec-1', now });
  reportJobFailures(events, { writes, logger, now });
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { store, lines, events, settle };
}

describe('reportJobFailures (the error channel) and recordJobEvents', () => {
  it('should log a retried attempt with job id, key, attempt and code, and keep the job running', async () => {
    const { store, lines, events, settle } = await setUp();
    events.next({ type: 'started', job, attempt: 1 });
    events.next({
      type: 'attempt_failed',
      job,
      attempt: 1,
      error: new AppError('s3_unavailable', 'S3 answered 503.'),
      retryInMs: 800,
    });
    await settle();
    expect(lines.find((line) => line['message'] === 'job attempt failed; retrying')).to.deep.include({
      level: 'warn',
      jobId: job.id,
      key: 'iot/a.csv',
      attempt: 1,
      code: 's3_unavailable',
      retryable: true,
      retryInMs: 800,
    });
    expect(await store.get(job.id)).to.deep.include({
      status: 'running',
      attempts: 1,
      error: null,
      startedAt: '2026-01-02T00:00:00.000Z',
      runner: 'spec-1',
    });
  });

  it('should log a final failure and record it on the job', async () => {
    const { store, lines, events, settle } = await setUp();
    events.next({ type: 'started', job, attempt: 1 });
    events.next({ type: 'failed', job, attempt: 1, error: new AppError('no_such_key', 'The object does not exist.') });
    await settle();
    expect(lines.find((line) => line['message'] === 'job failed')).to.deep.include({
      level: 'error',
      jobId: job.id,
      attempt: 1,
      code: 'no_such_key',
    });
    expect(await store.get(job.id)).to.deep.include({
      status: 'failed',
      finishedAt: '2026-01-02T00:00:00.000Z',
      error: { code: 'no_such_key', message: 'The object does not exist.', retryable: false },
    });
  });

  it('should record an unknown thrown value as an internal error, with its stack in the log', async () => {
    const { store, lines, events, settle } = await setUp();
    events.next({ type: 'failed', job, attempt: 2, error: new TypeError('x is not a function') });
    await settle();
    expect((await store.get(job.id))?.error).to.deep.equal({
      code: 'internal',
      message: 'x is not a function',
      retryable: false,
    });
    expect(String(lines.find((line) => line['message'] === 'job failed')?.['stack'])).to.include('TypeError');
  });

  it('should record progress, then the outputs of a succeeded job', async () => {
    const { store, events, settle } = await setUp();
    events.next({ type: 'started', job, attempt: 1 });
    events.next({
      type: 'progress',
      job,
      attempt: 1,
      progress: { bytesRead: 5, totalBytes: 10, rows: 1, rejected: 0 },
    });
    await settle();
    expect((await store.get(job.id))?.progress).to.deep.equal({ bytesRead: 5, totalBytes: 10, rows: 1, rejected: 0 });
    events.next({
      type: 'succeeded',
      job,
      attempt: 1,
      result: { output, progress: { bytesRead: 10, totalBytes: 10, rows: 2, rejected: 0 } },
    });
    await settle();
    expect(await store.get(job.id)).to.deep.include({
      status: 'succeeded',
      output,
      progress: { bytesRead: 10, totalBytes: 10, rows: 2, rejected: 0 },
    });
  });
});
