import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { createAcceptJobs, type AcceptJobs, type JobRequest } from '../../src/jobs/accept-jobs.ts';
import type { Job } from '../../src/jobs/job.ts';
import type { JobStore } from '../../src/jobs/job-store.ts';
import { createMemoryJobStore } from '../helpers/memory-job-store.ts';
import { createJobQueue } from '../../src/pipeline/job-queue.ts';
import { createS3Client } from '../../src/storage/create-s3-client.ts';
import { headSourceObject } from '../../src/storage/head-source-object.ts';
import { startSlowDownProxy, type ProxiedRequest, type SlowDownProxy } from '../helpers/slow-down-proxy.ts';
import { startTestS3, type TestS3 } from '../helpers/test-s3.ts';

/**
 * The most requests that were in flight at one moment (an answer ending in the same ms as another starts does not
 * overlap it).
 */
function mostAtOnce(requests: readonly ProxiedRequest[]): number {
  const edges = requests.flatMap(
    (request) =>
      [
        [request.at, 1],
        [request.finishedAt ?? Infinity, -1],
      ] as const,
  );
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, step] of edges) {
    now += step;
    most = Math.max(most, now);
  }
  return most;
}

describe('createAcceptJobs', () => {
  let s3: TestS3;
  let proxy: SlowDownProxy;
  // Through the proxy, with far more sockets than the HEAD limit: only acceptJobs can bound the HEADs.
  let client: S3Client;
  let store: JobStore;
  let acceptJobs: AcceptJobs;
  const etags = new Map<string, string>();

  before(async function () {
    this.timeout(60_000);
    s3 = await startTestS3({ buckets: ['ingest', 'other', 'secret'] });
    for (let first = 0; first < 1000; first += 50) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const key = `many/${first + i}.csv`;
          const put = await s3.client.send(
            new PutObjectCommand({ Bucket: 'ingest', Key: key, Body: `a\n${first + i}\n` }),
          );
          etags.set(key, put.ETag!);
        }),
      );
    }
    proxy = await startSlowDownProxy(s3.endpoint);
    // Each HEAD takes a few ms more, so that HEADs sent together are seen together.
    proxy.rule((request) => (request.method === 'HEAD' ? { delayMs: 5 } : undefined));
    client = createS3Client({
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      checksums: 'WHEN_REQUIRED',
      credentials: s3.server.credentials,
      maxSockets: 256,
    });
  });
  after(async () => {
    client.destroy();
    await proxy.close();
    await s3.close();
  });
  beforeEach(() => {
    proxy.requests.length = 0;
    store = createMemoryJobStore();
    acceptJobs = createAcceptJobs({
      store,
      queue: createJobQueue<Job>({ capacity: 5000 }),
      allowedBuckets: ['ingest', 'other', 'ghost-bucket'],
      reservedPrefix: 'processed/',
      headObject: (bucket, key, versionId) => headSourceObject(client, bucket, key, versionId),
      resolvePipeline: () => 'default',
      accepting: () => true,
    });
  });

  const listed = async () => (await store.list({ limit: 5000 })).jobs;

  it('should HEAD the objects of a 1,000-record trigger at most 8 at once, and answer the jobs in request order', async function () {
    this.timeout(60_000);
    const requests: JobRequest[] = Array.from({ length: 1000 }, (_, i) => ({ bucket: 'ingest', key: `many/${i}.csv` }));
    const started = performance.now();
    const jobs = await acceptJobs(requests, 's3-event');
    const seconds = (performance.now() - started) / 1000;
    const heads = proxy.requests.filter((request) => request.method === 'HEAD');
    const most = mostAtOnce(heads);
    console.log(`      1,000 HEADs in ${seconds.toFixed(2)} s, at most ${most} at once`);
    expect(most).to.be.at.most(8);
    expect(most, 'the HEADs still overlap').to.be.at.least(2);
    expect(heads).to.have.length(1000);
    expect(jobs.map((job) => job.source.key)).to.deep.equal(requests.map((request) => request.key));
    expect(jobs.map((job) => job.source.etag)).to.deep.equal(requests.map((request) => etags.get(request.key)));
  });

  it('should ask a client refused for a full queue or a shutdown to come back after retryAfterSeconds', async () => {
    let accepting = true;
    const refusing = createAcceptJobs({
      store,
      queue: createJobQueue<Job>({ capacity: 1 }),
      allowedBuckets: ['ingest'],
      reservedPrefix: 'processed/',
      headObject: (bucket, key, versionId) => headSourceObject(client, bucket, key, versionId),
      resolvePipeline: () => 'default',
      accepting: () => accepting,
      retryAfterSeconds: 9,
    });
    const records = [1, 2].map((i) => ({ bucket: 'ingest', key: `many/${i}.csv` }));
    const full = await refusing(records, 'rest').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(full).to.include({ code: 'queue_full' }).and.have.deep.property('headers', { 'Retry-After': '9' });
    accepting = false;
    const closed = await refusing(records.slice(0, 1), 'rest').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(closed).to.include({ code: 'shutting_down' }).and.have.deep.property('headers', { 'Retry-After': '9' });
  });

  it('should refuse a bucket outside the allow-list with bucket_not_allowed, before any S3 call, and accept nothing of the trigger', async () => {
    const refused = await acceptJobs(
      [
        { bucket: 'ingest', key: 'many/1.csv' },
        { bucket: 'secret', key: 'payroll.csv' },
      ],
      'rest',
    ).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).to.include({ code: 'bucket_not_allowed', status: 403 });
    expect((refused as Error).message).to.contain('"secret"');
    expect(proxy.requests).to.deep.equal([]);
    expect(await listed()).to.deep.equal([]);
  });

  it('should refuse a record breaking a key rule with invalid_key, before any S3 call, and accept none of the records', async () => {
    const requests: JobRequest[] = [
      { bucket: 'ingest', key: 'many/1.csv' },
      { bucket: 'ingest', key: 'many/2.csv', etag: '"e"' },
      { bucket: 'ingest', key: 'a/../../etc/passwd', etag: '"e"' },
      { bucket: 'ingest', key: 'many/3.csv' },
    ];
    const refused = await acceptJobs(requests, 's3-event').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).to.include({ code: 'invalid_key', status: 400 });
    expect((refused as Error).message).to.equal(
      'The key "a/../../etc/passwd" is not valid: its segment 2 is ".."; empty, "." and ".." segments are not allowed.',
    );
    expect(proxy.requests).to.deep.equal([]);
    expect(await listed()).to.deep.equal([]);
  });

  it('should accept an allowed bucket other than the input bucket', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: 'other', Key: 'many/1.csv', Body: 'a\nother\n' }));
    const [job] = await acceptJobs([{ bucket: 'other', key: 'many/1.csv' }], 'rest');
    expect(job!.source).to.include({ bucket: 'other', key: 'many/1.csv' });
    expect(job!.source.etag).to.not.equal(etags.get('many/1.csv'));
  });

  it('should refuse an allowed bucket that does not exist with no_such_bucket, and a missing key with no_such_key', async () => {
    const bucket = await acceptJobs([{ bucket: 'ghost-bucket', key: 'a.csv' }], 'rest').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(bucket).to.include({ code: 'no_such_bucket', status: 404 });
    const key = await acceptJobs([{ bucket: 'ingest', key: 'many/none.csv' }], 'rest').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(key).to.include({ code: 'no_such_key', status: 404 });
    expect(await listed()).to.deep.equal([]);
  });
});
