import { expect } from 'chai';
import { Subject } from 'rxjs';
import { AppError } from '../../src/errors.ts';
import { EMPTY_PROGRESS, type Job, type JobLifecycleEvent } from '../../src/jobs/job.ts';
import { createMetrics, type Metrics } from '../../src/metrics/create-metrics.ts';
import { observeJobEvents } from '../../src/metrics/observe-job-events.ts';

function job(id: string, startedAt: string | null = null): Job {
  return {
    id,
    status: 'queued',
    trigger: 'upload',
    pipeline: 'default',
    attempts: 0,
    source: { bucket: 'ingest', key: `${id}.csv`, versionId: null, etag: '"e"', size: 10 },
    createdAt: new Date(1_000).toISOString(),
    startedAt,
    finishedAt: null,
    progress: EMPTY_PROGRESS,
    output: null,
    error: null,
    runner: null,
  };
}

const output = { bucket: 'ingest', rows: 'r', rejects: 'j', manifest: 'm' };
const progress = (rows: number, rejected = 0, bytesRead = rows * 10) => ({
  bytesRead,
  totalBytes: null,
  rows,
  rejected,
});

async function value(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = metrics.registry.getSingleMetric(`s3_csv_ingest_${name}`);
  const data = await metric!.get();
  const found = data.values.find(
    (entry) =>
      Object.entries(labels).every(([key, wanted]) => entry.labels[key] === wanted) &&
      (Object.keys(labels).length > 0 || !('le' in entry.labels)),
  );
  return found?.value;
}

describe('observeJobEvents', () => {
  let events: Subject<JobLifecycleEvent>;
  let metrics: Metrics;
  let clock: number;

  beforeEach(() => {
    events = new Subject();
    metrics = createMetrics({ queueDepth: () => 7, defaultMetrics: false });
    clock = 2_000;
    observeJobEvents(events, metrics, { now: () => clock });
  });

  it('should count accepted jobs by trigger and read the queue depth at scrape time', async () => {
    events.next({ type: 'queued', job: job('a') });
    expect(await value(metrics, 'jobs_accepted_total', { trigger: 'upload' })).to.equal(1);
    expect(await value(metrics, 'queue_depth')).to.equal(7);
  });

  it('should count rows, rejects and bytes as progress comes, once, across a retry', async () => {
    const a = job('a');
    events.next({ type: 'started', job: a, attempt: 1 });
    events.next({ type: 'progress', job: a, attempt: 1, progress: progress(10, 1) });
    events.next({ type: 'progress', job: a, attempt: 1, progress: progress(25, 2) });
    expect(await value(metrics, 'rows_processed_total')).to.equal(25);
    expect(await value(metrics, 'jobs_running')).to.equal(1);
    events.next({
      type: 'attempt_failed',
      job: a,
      attempt: 1,
      error: new AppError('s3_unavailable', 'x'),
      retryInMs: 10,
    });
    events.next({ type: 'started', job: a, attempt: 2 });
    events.next({ type: 'progress', job: a, attempt: 2, progress: progress(5) });
    clock += 1_500;
    events.next({ type: 'succeeded', job: a, attempt: 2, result: { output, progress: progress(30, 3) } });

    expect(await value(metrics, 'rows_processed_total')).to.equal(25 + 30); // every attempt's work counts
    expect(await value(metrics, 'rows_rejected_total')).to.equal(2 + 3);
    expect(await value(metrics, 'bytes_read_total')).to.equal(250 + 300);
    expect(await value(metrics, 'job_retries_total', { code: 's3_unavailable' })).to.equal(1);
    expect(await value(metrics, 'jobs_finished_total', { status: 'succeeded' })).to.equal(1);
    expect(await value(metrics, 'jobs_running')).to.equal(0);
    const duration = await metrics.jobDuration.get();
    expect(duration.values.find((entry) => entry.metricName?.endsWith('_sum'))?.value).to.equal(1.5);
    const wait = await metrics.jobQueueWait.get();
    expect(wait.values.find((entry) => entry.metricName?.endsWith('_sum'))?.value).to.equal(1); // created at 1 s, started at 2 s
  });

  it('should count failures by code and cancellations, with their durations', async () => {
    events.next({ type: 'started', job: job('a'), attempt: 1 });
    events.next({
      type: 'failed',
      job: job('a'),
      attempt: 1,
      error: new AppError('csv_invalid', 'bad quote on line 3'),
    });
    events.next({ type: 'failed', job: job('b'), attempt: 1, error: new Error('surprise') });
    events.next({ type: 'cancelled', job: job('c'), attempt: 0 });
    expect(await value(metrics, 'jobs_finished_total', { status: 'failed' })).to.equal(2);
    expect(await value(metrics, 'jobs_finished_total', { status: 'cancelled' })).to.equal(1);
    expect(await value(metrics, 'job_failures_total', { code: 'csv_invalid' })).to.equal(1);
    expect(await value(metrics, 'job_failures_total', { code: 'internal' })).to.equal(1);
    const duration = await metrics.jobDuration.get();
    const counts = duration.values.filter((entry) => entry.metricName?.endsWith('_count'));
    expect(counts.map((entry) => [entry.labels['status'], entry.value])).to.deep.equal([['failed', 1]]); // b and c never started here
  });

  it('should time a job recovered after a restart from its first start', async () => {
    events.next({ type: 'started', job: job('a', new Date(500).toISOString()), attempt: 2 });
    events.next({ type: 'succeeded', job: job('a'), attempt: 2, result: { output } });
    const duration = await metrics.jobDuration.get();
    expect(duration.values.find((entry) => entry.metricName?.endsWith('_sum'))?.value).to.equal(1.5);
  });
});
