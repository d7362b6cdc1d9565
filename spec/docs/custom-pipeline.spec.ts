import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { NEVER, Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { Config } from '../../src/config/config.ts';
import { AppError } from '../../src/errors.ts';
import { EMPTY_PROGRESS, type Job, type JobProgress, type JobRunResult } from '../../src/jobs/job.ts';
import { outputKeys } from '../../src/jobs/output-keys.ts';
import type { RunJob, RunUpdate } from '../../src/pipeline/job-event.ts';
import { processJobs } from '../../src/pipeline/process-jobs.ts';
import { translateS3Error } from '../../src/storage/translate-s3-error.ts';
import { startTestService, waitForJob } from '../helpers/test-service.ts';

/** The row step: one line in, one row out, or undefined to reject the line. Pure. */
export function parseLogLine(line: string): { level: string; message: string } | undefined {
  const match = /^(INFO|WARN|ERROR): (.+)$/.exec(line);
  return match ? { level: match[1]!.toLowerCase(), message: match[2]! } : undefined;
}

/**
 * A custom runJob: reads the object line by line through the row step and puts
 * rows, rejects and a manifest. One subscription is one attempt; unsubscribing
 * aborts its S3 calls. (It keeps the rows in memory: for big objects stream them
 * with `createS3Upload`, as the CSV job does.)
 */
export function logLinesJob({ s3, config }: { s3: S3Client; config: Config }): RunJob<Job, JobProgress, JobRunResult> {
  return (job) =>
    new Observable<RunUpdate<JobProgress, JobRunResult>>((subscriber) => {
      const abort = new AbortController();
      const output = outputKeys(config.buckets.output, config.buckets.outputPrefix, job.source);
      const put = (Key: string, Body: string) =>
        s3.send(new PutObjectCommand({ Bucket: output.bucket, Key, Body }), { abortSignal: abort.signal });
      const run = async (): Promise<JobRunResult> => {
        const object = await s3.send(new GetObjectCommand({ Bucket: job.source.bucket, Key: job.source.key }), {
          abortSignal: abort.signal,
        });
        const rows: string[] = [];
        const rejects: string[] = [];
        for await (const line of createInterface({ input: object.Body as Readable, crlfDelay: Infinity })) {
          const row = parseLogLine(line);
          if (row === undefined) rejects.push(JSON.stringify({ line: rows.length + rejects.length + 1, raw: line }));
          else rows.push(JSON.stringify(row));
          if ((rows.length + rejects.length) % 1000 === 0) {
            subscriber.next({
              kind: 'progress',
              progress: { ...EMPTY_PROGRESS, rows: rows.length, rejected: rejects.length },
            });
          }
        }
        const progress = {
          bytesRead: object.ContentLength ?? 0,
          totalBytes: object.ContentLength ?? null,
          rows: rows.length,
          rejected: rejects.length,
        };
        await put(output.rows, rows.map((row) => `${row}\n`).join(''));
        await put(output.rejects, rejects.map((reject) => `${reject}\n`).join(''));
        await put(output.manifest, JSON.stringify({ jobId: job.id, source: job.source, ...progress })); // last
        return { output, progress };
      };
      run().then(
        (result) => {
          subscriber.next({ kind: 'done', result });
          subscriber.complete();
        },
        // Errors are AppErrors: `retryable` decides whether the pipeline tries again.
        (error: unknown) =>
          subscriber.error(translateS3Error(error, `reading s3://${job.source.bucket}/${job.source.key}`)),
      );
      return () => abort.abort();
    });
}

describe('a custom pipeline (docs/pipeline-authors.md)', () => {
  it('should turn a line into a row, or reject it', () => {
    expect(parseLogLine('WARN: disk 91% full')).to.deep.equal({ level: 'warn', message: 'disk 91% full' });
    expect(parseLogLine('garbage')).to.equal(undefined);
  });

  it('should retry a transient failure after the backoff, in virtual time', () => {
    const testScheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const job = { id: 'j1' } as Job;
      const progress = { ...EMPTY_PROGRESS, rows: 1000 };
      const result = { output: outputKeys('ingest', 'processed/', { bucket: 'ingest', key: 'app.log' }) };
      const unavailable = new AppError('s3_unavailable', 'S3 answered 503.');
      // Stands in for logLinesJob: the first attempt fails after its progress, the second succeeds.
      const attempts = [
        cold<RunUpdate<JobProgress, JobRunResult>>('-p-#', { p: { kind: 'progress', progress } }, unavailable),
        cold<RunUpdate<JobProgress, JobRunResult>>('-p-d|', {
          p: { kind: 'progress', progress },
          d: { kind: 'done', result },
        }),
      ];
      const jobs = hot('a', { a: job });
      const expected = 'sp-f 99ms tq-d';

      const events$ = processJobs(
        { jobs$: jobs, cancels$: NEVER, claim: () => 'start' },
        (_job, { attempt }) => attempts[attempt - 1]!,
        {
          concurrency: 1,
          maxAttempts: 3,
          backoff: () => 100, // ms before each retry
        },
      );

      expectObservable(events$).toBe(expected, {
        s: { type: 'started', job, attempt: 1 },
        p: { type: 'progress', job, attempt: 1, progress },
        f: { type: 'attempt_failed', job, attempt: 1, error: unavailable, retryInMs: 100 },
        t: { type: 'started', job, attempt: 2 },
        q: { type: 'progress', job, attempt: 2, progress },
        d: { type: 'succeeded', job, attempt: 2, result },
      });
      expectSubscriptions(attempts[0]!.subscriptions).toBe('^--!');
      expectSubscriptions(attempts[1]!.subscriptions).toBe('103ms ^--!');
    });
  });

  it('should run in the service when passed as ServiceOptions.runJob', async () => {
    const svc = await startTestService({ runJob: logLinesJob, embeddedS3Events: false });
    try {
      await svc.service.s3.send(
        new PutObjectCommand({ Bucket: 'ingest', Key: 'logs/app.log', Body: 'INFO: up\nnoise\nERROR: down\n' }),
      );
      const response = await svc.fetch('/v1/trigger', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key: 'logs/app.log' }),
      });
      const { jobs } = (await response.json()) as { jobs: { id: string }[] };
      const job = await waitForJob(svc, jobs[0]!.id);
      expect(job).to.deep.include({
        status: 'succeeded',
        progress: { bytesRead: 27, totalBytes: 27, rows: 2, rejected: 1 },
      });
      const rows = await (await svc.fetch(`/v1/jobs/${jobs[0]!.id}/outputs/rows`)).text();
      expect(rows).to.equal('{"level":"info","message":"up"}\n{"level":"error","message":"down"}\n');
    } finally {
      await svc.stop();
    }
  });
});
