import { expect } from 'chai';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createS3Upload } from '../../src/storage/create-s3-upload.ts';
import { listKeys, readText, serverAbortsUploads, unfinishedUploads } from '../helpers/csv-job-fixture.ts';
import { startTestS3, type TestS3 } from '../helpers/test-s3.ts';

const MIB = 1024 * 1024;

function chunks(total: number, size = 256 * 1024): Readable {
  return Readable.from((function* () {
    for (let sent = 0; sent < total; sent += size) yield Buffer.alloc(Math.min(size, total - sent), 97);
  })(), { objectMode: false });
}

describe('createS3Upload', () => {
  let s3: TestS3;
  beforeEach(async () => { s3 = await startTestS3(); });
  afterEach(async () => { await s3.close(); });

  it('should upload a small body with one PutObject', async () => {
    const upload = createS3Upload(s3.client, { bucket: 'ingest', key: 'out/small.txt', contentType: 'text/plain', partSize: 5 * MIB, queueSize: 2 });
    await pipeline(Readable.from([Buffer.from('hello\n')]), upload.stream);
    expect(await upload.done).to.include({ bucket: 'ingest', key: 'out/small.txt' });
    expect(await readText(s3.client, 'out/small.txt')).to.equal('hello\n');
  });

  it('should upload an empty body as an empty object', async () => {
    const upload = createS3Upload(s3.client, { bucket: 'ingest', key: 'out/empty.txt', contentType: 'text/plain', partSize: 5 * MIB, queueSize: 2 });
    upload.stream.end();
    await upload.done;
    expect(await readText(s3.client, 'out/empty.txt')).to.equal('');
  });

  it('should upload a large body in parts', async () => {
    const upload = createS3Upload(s3.client, { bucket: 'ingest', key: 'out/large.txt', contentType: 'text/plain', partSize: 5 * MIB, queueSize: 2 });
    await pipeline(chunks(12 * MIB), upload.stream);
    await upload.done;
    expect((await readText(s3.client, 'out/large.txt'))?.length).to.equal(12 * MIB);
  });

  it('should abort the multipart upload when its stream is destroyed, then reject', async () => {
    const upload = createS3Upload(s3.client, { bucket: 'ingest', key: 'out/cut.txt', contentType: 'text/plain', partSize: 5 * MIB, queueSize: 2 });
    const failure = new Error('the producer failed');
    const writing = pipeline(chunks(11 * MIB), upload.stream).catch(() => undefined);
    // Let two parts go out so a multipart upload exists, then fail the body.
    while ((await unfinishedUploads(s3.directory)).length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    upload.stream.destroy(failure);
    const error = await upload.done.catch((e: unknown) => e);
    await writing;
    expect(error).to.have.property('code');
    expect(await listKeys(s3.client, 'out/')).to.deep.equal([]);
    if (await serverAbortsUploads(s3.client)) expect(await unfinishedUploads(s3.directory)).to.deep.equal([]);
  });
});
