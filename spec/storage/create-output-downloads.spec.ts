import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { once } from 'node:events';
import { buffer } from 'node:stream/consumers';
import { AppError } from '../../src/errors.ts';
import { createOutputDownloads, type OutputDownloads } from '../../src/storage/create-output-downloads.ts';
import { startTestS3, type TestS3 } from '../helpers/test-s3.ts';
import { rejectionOf } from '../helpers/rejection-of.ts';

describe('createOutputDownloads', () => {
  let s3: TestS3;
  let downloads: OutputDownloads | undefined;
  // Far more than loopback socket buffers hold: a client that stops reading leaves the S3 response unfinished.
  const big = Buffer.alloc(32 * 1024 * 1024, 'x');

  before(async () => {
    s3 = await startTestS3();
    await s3.client.send(new PutObjectCommand({ Bucket: 'ingest', Key: 'out/big.ndjson', Body: big }));
    await s3.client.send(new PutObjectCommand({ Bucket: 'ingest', Key: 'out/small.json', Body: '{"rows":1}' }));
  });
  after(async () => s3.close());
  afterEach(() => {
    downloads?.close();
    downloads = undefined;
  });

  const start = (options: { maxOpen?: number; idleTimeoutMs?: number }) =>
    (downloads = createOutputDownloads({
      s3: {
        endpoint: s3.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        checksums: 'WHEN_REQUIRED',
        credentials: s3.server.credentials,
      },
      ...options,
    }));

  it('should stream an output with its type and length', async () => {
    const opened = await start({}).open('ingest', 'out/small.json', 'application/json');
    expect(opened).to.include({ contentType: 'application/json', contentLength: 10 });
    expect((await buffer(opened.body)).toString()).to.equal('{"rows":1}');
  });

  it('should refuse a download past maxOpen with server_busy and Retry-After, and count one out when its body closes', async () => {
    const outputs = start({ maxOpen: 2 });
    const first = await outputs.open('ingest', 'out/big.ndjson', 'application/x-ndjson');
    const second = await outputs.open('ingest', 'out/small.json', 'application/json');
    const busy = await rejectionOf(outputs.open('ingest', 'out/small.json', 'application/json'));
    expect(busy).to.be.instanceOf(AppError);
    expect(busy.code).to.equal('server_busy');
    expect(busy.headers).to.deep.equal({ 'Retry-After': '5' });
    expect(busy.message).to.match(/2 output downloads are streaming/);
    first.body.destroy(); // the client left
    await once(first.body, 'close');
    const third = await outputs.open('ingest', 'out/small.json', 'application/json');
    await buffer(second.body); // read to the end
    await buffer(third.body);
    await Promise.all(
      [1, 2].map(() =>
        outputs.open('ingest', 'out/small.json', 'application/json').then((opened) => buffer(opened.body)),
      ),
    );
  });

  it('should not count a missing output', async () => {
    const outputs = start({ maxOpen: 1 });
    expect((await rejectionOf(outputs.open('ingest', 'out/missing.ndjson', 'application/x-ndjson'))).code).to.equal(
      'not_found',
    );
    await buffer((await outputs.open('ingest', 'out/small.json', 'application/json')).body);
  });

  it('should destroy the stream of a download nobody reads for idleTimeoutMs, and free its place', async () => {
    const outputs = start({ maxOpen: 1, idleTimeoutMs: 300 });
    const stalled = await outputs.open('ingest', 'out/big.ndjson', 'application/x-ndjson');
    const started = performance.now();
    const [error] = (await once(stalled.body, 'error')) as [Error];
    expect(error.name).to.equal('TimeoutError');
    expect(performance.now() - started).to.be.below(5_000);
    const next = await outputs.open('ingest', 'out/big.ndjson', 'application/x-ndjson');
    expect((await buffer(next.body)).length).to.equal(big.length);
  });
});
