import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { buffer } from 'node:stream/consumers';
import { createS3Client } from '../../src/storage/create-s3-client.ts';
import { openS3ObjectStream } from '../../src/storage/open-s3-object-stream.ts';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { startTestS3, type TestS3 } from '../helpers/test-s3.ts';

describe('openS3ObjectStream', () => {
  let s3: TestS3;
  let proxy: FaultProxy;
  let client: S3Client;
  const data = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `line ${i}\n`).join(''));
  const isGetOfData = (request: { method: string; path: string }) =>
    request.method === 'GET' && request.path.startsWith('/ingest/data.txt');

  beforeEach(async () => {
    s3 = await startTestS3();
    proxy = await startFaultProxy({ port: s3.server.port });
    client = createS3Client({
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      checksums: 'WHEN_REQUIRED',
      credentials: s3.server.credentials,
    });
    await s3.client.send(new PutObjectCommand({ Bucket: 'ingest', Key: 'data.txt', Body: data }));
  });
  afterEach(async () => {
    client.destroy();
    await proxy.close();
    await s3.close();
  });

  it('should stream the object and report its metadata and bytes', async () => {
    let counted = 0;
    const opened = await openS3ObjectStream(
      client,
      { bucket: 'ingest', key: 'data.txt' },
      {
        onBytes: (n) => {
          counted += n;
        },
      },
    );
    expect(opened.size).to.equal(data.length);
    expect(opened.etag).to.match(/^"[0-9a-f]{32}"$/);
    expect((await buffer(opened.stream)).equals(data)).to.equal(true);
    expect(counted).to.equal(data.length);
  });

  it('should resume a broken read with a ranged GET pinned to the ETag', async () => {
    proxy.cutGet(50_000, { match: isGetOfData });
    const opened = await openS3ObjectStream(client, { bucket: 'ingest', key: 'data.txt' }, { resumeDelayMs: 5 });
    expect((await buffer(opened.stream)).equals(data)).to.equal(true);
    const gets = proxy.requests.filter(isGetOfData);
    expect(gets.map((r) => r.range)).to.deep.equal([undefined, 'bytes=50000-']);
    expect(gets[1]?.headers['if-match']).to.equal(opened.etag);
  });

  it('should resume a read whose connection stalls', async () => {
    proxy.cutGet(40_000, { match: isGetOfData, stall: true });
    const opened = await openS3ObjectStream(
      client,
      { bucket: 'ingest', key: 'data.txt' },
      { resumeDelayMs: 5, idleTimeoutMs: 150 },
    );
    expect((await buffer(opened.stream)).equals(data)).to.equal(true);
    expect(proxy.requests.filter(isGetOfData).map((r) => r.range)).to.deep.equal([undefined, 'bytes=40000-']);
  });

  it('should not take a consumer that holds the stream back for a stalled connection', async () => {
    const opened = await openS3ObjectStream(
      client,
      { bucket: 'ingest', key: 'data.txt' },
      { idleTimeoutMs: 50, highWaterMark: 1024 },
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await buffer(opened.stream)).equals(data)).to.equal(true);
    expect(proxy.requests.filter(isGetOfData)).to.have.length(1);
  });

  it('should resume as often as reads break, as long as each makes progress', async () => {
    proxy.cutGet(30_000, { match: isGetOfData, times: 3 });
    const opened = await openS3ObjectStream(
      client,
      { bucket: 'ingest', key: 'data.txt' },
      { resumeDelayMs: 5, maxResumes: 1 },
    );
    expect((await buffer(opened.stream)).equals(data)).to.equal(true);
    expect(proxy.requests.filter(isGetOfData).map((r) => r.range)).to.deep.equal([
      undefined,
      'bytes=30000-',
      'bytes=60000-',
      'bytes=90000-',
    ]);
  });

  it('should fail as retryable after too many broken reads in a row', async () => {
    proxy.cutGet(10_000, { match: isGetOfData });
    proxy.cutGet(0, { match: isGetOfData, times: 10 });
    const opened = await openS3ObjectStream(
      client,
      { bucket: 'ingest', key: 'data.txt' },
      { resumeDelayMs: 5, maxResumes: 2 },
    );
    const error = await buffer(opened.stream).catch((e: unknown) => e);
    expect(error).to.include({ code: 's3_unavailable', retryable: true });
    expect((error as Error).message).to.include('broke 3 times in a row at byte 10000');
    expect(proxy.requests.filter(isGetOfData)).to.have.length(3);
  });

  it('should fail with source_changed when the object changed before the re-read', async () => {
    proxy.cutGet(10_000, { match: isGetOfData });
    const overwrite = () =>
      s3.client.send(new PutObjectCommand({ Bucket: 'ingest', Key: 'data.txt', Body: Buffer.concat([data, data]) }));
    proxy.hold((request) => isGetOfData(request) && request.range !== undefined, overwrite);
    const opened = await openS3ObjectStream(client, { bucket: 'ingest', key: 'data.txt' }, { resumeDelayMs: 5 });
    const error = await buffer(opened.stream).catch((e: unknown) => e);
    expect(error).to.include({ code: 'source_changed', retryable: true });
  });

  it('should reject a missing key or bucket at once, not retryable', async () => {
    const missingKey = await openS3ObjectStream(client, { bucket: 'ingest', key: 'nope.txt' }).catch((e: unknown) => e);
    expect(missingKey).to.include({ code: 'no_such_key', retryable: false });
    const missingBucket = await openS3ObjectStream(client, { bucket: 'nope', key: 'a.txt' }).catch((e: unknown) => e);
    expect(missingBucket).to.include({ code: 'no_such_bucket', retryable: false });
  });

  it('should stop reading and fail with cancelled when aborted', async () => {
    const controller = new AbortController();
    const opened = await openS3ObjectStream(
      client,
      { bucket: 'ingest', key: 'data.txt' },
      { signal: controller.signal, highWaterMark: 1024 },
    );
    const reading = buffer(opened.stream).catch((e: unknown) => e);
    controller.abort();
    expect(await reading).to.include({ code: 'cancelled' });
    expect(opened.stream.destroyed).to.equal(true);
  });
});
