import { expect } from 'chai';
import { lastValueFrom, toArray } from 'rxjs';
import { AppError } from '../../src/errors.ts';
import { createCsvJobRunner } from '../helpers/create-csv-job-runner.ts';
import type { CsvJobResult } from '../../src/jobs/csv-job-result.ts';
import type { JobProgress } from '../../src/jobs/job.ts';
import type { RunUpdate } from '../../src/pipeline/job-event.ts';
import {
  OUTPUT_BASE,
  depsFor,
  generateCsv,
  jobFor,
  listKeys,
  putObject,
  unfinishedUploads,
} from '../helpers/csv-job-fixture.ts';
import { startTestS3, type TestS3 } from '../helpers/test-s3.ts';

describe('observeAttempts (runCsvJob in this thread)', () => {
  let s3: TestS3;
  const rows = 40_000;
  before(async () => {
    s3 = await startTestS3();
    await putObject(s3.client, 'runner/big.csv', generateCsv(rows));
  });
  after(async () => {
    await s3.close();
  });

  it('should emit sampled progress, then one done with the outputs and the manifest', async () => {
    const runJob = createCsvJobRunner({ ...depsFor(s3.client), progressIntervalMs: 20 });
    const updates = await lastValueFrom(
      runJob(jobFor('runner/big.csv'), { attempt: 1, released: () => false }).pipe(toArray()),
    );

    const progress = updates
      .filter((u): u is Extract<RunUpdate<JobProgress, CsvJobResult>, { kind: 'progress' }> => u.kind === 'progress')
      .map((u) => u.progress);
    const last = updates.at(-1);
    expect(updates.filter((u) => u.kind === 'done')).to.have.length(1);
    expect(last?.kind).to.equal('done');
    expect(progress.length)
      .to.be.greaterThan(1)
      .and.lessThan(rows / 100);
    for (let i = 1; i < progress.length; i += 1) {
      expect(progress[i]?.bytesRead).to.be.at.least(progress[i - 1]?.bytesRead ?? 0);
      expect(progress[i]?.rows).to.be.at.least(progress[i - 1]?.rows ?? 0);
    }
    const result = last?.kind === 'done' ? last.result : undefined;
    expect(result?.output).to.deep.equal({
      bucket: 'ingest',
      rows: `${OUTPUT_BASE}runner/big.csv/rows.ndjson`,
      rejects: `${OUTPUT_BASE}runner/big.csv/rejects.ndjson`,
      manifest: `${OUTPUT_BASE}runner/big.csv/manifest.json`,
    });
    expect(result?.manifest).to.include({ rows, rejected: 0 });
    expect(result?.progress.totalBytes).to.equal(result?.progress.bytesRead);
  });

  it('should abort the attempt on unsubscribe and leave nothing behind', async () => {
    const runJob = createCsvJobRunner({ ...depsFor(s3.client), progressIntervalMs: 10 });
    const seen: RunUpdate<JobProgress, CsvJobResult>[] = [];
    await new Promise<void>((resolve, reject) => {
      const subscription = runJob(jobFor('runner/big.csv'), { attempt: 1, released: () => false }).subscribe({
        next: (update) => {
          seen.push(update);
          if (update.kind === 'progress' && update.progress.rows > 0) {
            subscription.unsubscribe();
            resolve();
          }
        },
        error: reject,
        complete: () => reject(new Error('the job finished before it could be cancelled')),
      });
    });
    await runJob.drain();

    expect(seen.every((update) => update.kind === 'progress')).to.equal(true);
    expect(await listKeys(s3.client, `${OUTPUT_BASE}runner/`)).to.deep.equal([]);
    expect(await unfinishedUploads(s3.directory)).to.deep.equal([]);
  });

  it('should end with the AppError of a failed attempt', async () => {
    const runJob = createCsvJobRunner(depsFor(s3.client));
    const error = await lastValueFrom(
      runJob(jobFor('runner/missing.csv'), { attempt: 1, released: () => false }),
    ).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(AppError).and.include({ code: 'no_such_key', retryable: false });
    await runJob.drain();
  });
});
