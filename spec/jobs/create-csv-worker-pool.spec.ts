import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config/load-config.ts';
import { loadPipelines } from '../../src/csv/load-pipelines.ts';
import type { AppError } from '../../src/errors.ts';
import { createCsvWorkerPool } from '../../src/jobs/create-csv-worker-pool.ts';
import type { Job } from '../../src/jobs/job.ts';
import { runCsvJob } from '../../src/jobs/run-csv-job.ts';
import { depsFor, jobFor, listKeys, OUTPUT_BASE, readOutputs, unfinishedUploads } from '../helpers/csv-job-fixture.ts';
import { startTestS3, type TestS3 } from '../helpers/test-s3.ts';
import { eventually, putGenerated, tempDir } from '../faults/fault-fixture.ts';

type Pool = ReturnType<typeof createCsvWorkerPool>;
const execFileAsync = promisify(execFile);

/** A pool on the test server: `threads` parse threads, 64 KiB blocks, three jobs at once. */
async function poolFor(s3: TestS3, threads: number): Promise<Pool> {
  const config = loadConfig({
    INPUT_BUCKET: 'ingest',
    OUTPUT_PREFIX: 'processed/',
    WORKER_THREADS: String(threads),
    CSV_BLOCK_BYTES: '65536',
    JOB_CONCURRENCY: '3',
    S3_PART_SIZE: String(5 * 1024 * 1024),
    S3_QUEUE_SIZE: '2',
  });
  return createCsvWorkerPool(config, await loadPipelines(undefined), {
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    checksums: 'WHEN_REQUIRED',
    credentials: s3.server.credentials,
  });
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const outcome = await promise.then(
    () => new Error('expected the attempt to fail'),
    (error: unknown) => error,
  );
  expect(outcome).to.have.property('code');
  return outcome as AppError;
}

/** Rows and rejects as written, and the manifest without what differs between attempts. */
async function outputsOf(s3: TestS3, key: string) {
  const { texts, manifest } = await readOutputs(s3.client, key);
  const { timings: _timings, attempt: _attempt, ...rest } = manifest ?? {};
  return { texts, manifest: rest };
}

/** Nothing written for `key` is left: no object and no unfinished multipart upload. */
async function leftovers(s3: TestS3, key: string): Promise<string[]> {
  return [...(await listKeys(s3.client, `${OUTPUT_BASE}${key}/`)), ...(await unfinishedUploads(s3.directory))];
}

/** Samples `read` every millisecond until `until` settles; resolves with the largest value seen. */
async function largest(read: () => number, until: Promise<unknown>): Promise<number> {
  let most = read();
  const timer = setInterval(() => (most = Math.max(most, read())), 1);
  try {
    await until;
  } finally {
    clearInterval(timer);
  }
  return Math.max(most, read());
}

/** The nice value of each of this process's threads (the main thread first), from /proc (Linux). */
async function threadNices(): Promise<number[]> {
  const tasks = (await readdir('/proc/self/task')).sort((a, b) => Number(a) - Number(b));
  const stats = await Promise.all(tasks.map((id) => readFile(`/proc/self/task/${id}/stat`, 'utf8').catch(() => '')));
  // Field 19 of the line is the nice value: the 17th after the command name.
  return stats.filter(Boolean).map((stat) => Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
}

describe('the CSV worker pool: blocks of every job on one parse pool (real threads)', function () {
  this.timeout(120_000);
  let s3: TestS3;
  let dir: string;
  let pool: Pool | undefined;

  before(async () => {
    s3 = await startTestS3();
    dir = await tempDir('csv-pool');
    await putGenerated(s3.client, dir, 3, ['pool/a.csv', 'pool/b.csv', 'pool/c.csv', 'pool/ref.csv']);
    await runCsvJob(jobFor('pool/ref.csv'), depsFor(s3.client), { signal: new AbortController().signal });
  });
  after(async () => {
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  const run = (job: Job, signal = new AbortController().signal, attempt = 1) => pool!.run({ job, attempt }, { signal });

  it('should hold at most two blocks per parse thread across three jobs at once, and finish each as one pass does', async () => {
    pool = await poolFor(s3, 1);
    const jobs = ['pool/a.csv', 'pool/b.csv', 'pool/c.csv'].map((key) => run(jobFor(key)));
    const all = Promise.all(jobs);
    const [most, mostTasks] = await Promise.all([
      largest(() => pool!.blocksInFlight(), all),
      largest(() => pool!.parsePool.tasks(), all),
    ]);
    expect(most).to.equal(2);
    expect(mostTasks, 'blocks queued or parsing').to.be.within(1, 2);
    expect(pool.blocksInFlight()).to.equal(0);
    const reference = await readOutputs(s3.client, 'pool/ref.csv');
    for (const key of ['pool/a.csv', 'pool/b.csv', 'pool/c.csv']) {
      const { texts, manifest } = await readOutputs(s3.client, key);
      expect(texts, key).to.deep.equal(reference.texts);
      expect(manifest?.['blocks'], key).to.be.greaterThan(40);
    }
  });

  it('should free a block on its parse thread as soon as it is done with it, with no collection', async () => {
    // In a process of its own: in a long spec run, other memory of this process moves its RSS meanwhile.
    const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', 'spec/helpers/block-free-probe.ts']);
    const probe = JSON.parse(stdout) as { errorLine: number; dropMb: number };
    expect(probe.errorLine, 'the block was parsed').to.equal(2);
    expect(probe.dropMb, 'MB of the 48 MiB block given back within 5 s').to.be.greaterThan(24);
  });

  it('should run its job threads below the main thread and its parse threads below both', async function () {
    const [own] = await threadNices();
    // Started at nice 5 or more already, the threads cannot all be told apart.
    if (own === undefined || own >= 5) this.skip();
    pool = await poolFor(s3, 2);
    await run(jobFor('pool/a.csv'));
    // Each thread lowered its own priority as it started: the one job thread that ran the job to nice 5, the
    // two parse threads to nice 10; every other thread (this main thread, V8's and libuv's) kept the process's.
    const nices = await threadNices();
    expect(nices[0], 'the main thread').to.equal(own);
    expect(nices.filter((nice) => nice === 5)).to.have.length(1);
    expect(nices.filter((nice) => nice === 10)).to.have.length(2);
    expect(nices.filter((nice) => nice !== 5 && nice !== 10 && nice !== own)).to.deep.equal([]);
    expect(nices.length).to.be.greaterThan(5);
  });

  it("should stop a cancelled job's block tasks at once and abort its uploads", async () => {
    pool = await poolFor(s3, 2);
    const controller = new AbortController();
    const attempt = run(jobFor('pool/a.csv'), controller.signal);
    attempt.catch(() => undefined);
    // Blocks queued behind the two running ones: the job is mid-way.
    await eventually(async () => (pool!.parsePool.tasks() > 2 ? true : undefined), 30_000, 'blocks queued');
    controller.abort();
    expect(pool.parsePool.tasks(), 'queued blocks dropped at once').to.be.at.most(2);
    const error = await rejection(attempt);
    expect(error.code).to.equal('cancelled');
    // A block already being parsed runs to its end (a few ms at this size); its result is dropped.
    await eventually(async () => (pool!.parsePool.tasks() === 0 ? true : undefined), 2_000, 'the parse pool idle');
    expect(pool.blocksInFlight()).to.equal(0);
    expect(await leftovers(s3, 'pool/a.csv')).to.deep.equal([]);
  });

  it('should fail an attempt whose parse thread dies as retryable worker_crashed; the next attempt writes the same outputs', async () => {
    pool = await poolFor(s3, 1);
    await run(jobFor('pool/b.csv'));
    const clean = await outputsOf(s3, 'pool/b.csv');

    const crashing = run(jobFor('pool/b.csv'), undefined, 2);
    crashing.catch(() => undefined);
    await eventually(async () => (pool!.parsePool.tasks() > 0 ? true : undefined), 30_000, 'a block parsing');
    const [thread] = pool.parsePool.workers();
    await thread!.terminate();
    const error = await rejection(crashing);
    expect(error.code).to.equal('worker_crashed');
    expect(error.retryable).to.equal(true);
    expect(await leftovers(s3, 'pool/b.csv')).to.deep.equal([]);
    expect(pool.blocksInFlight()).to.equal(0);

    await run(jobFor('pool/b.csv'), undefined, 3);
    expect(await outputsOf(s3, 'pool/b.csv')).to.deep.equal(clean);
  });
});
