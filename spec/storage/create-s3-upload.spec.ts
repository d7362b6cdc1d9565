import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { createS3Upload } from '../../src/storage/create-s3-upload.ts';
import { AppError } from '../../src/errors.ts';
import { listKeys, readText, unfinishedUploads } from '../helpers/csv-job-fixture.ts';
import { createS3Client } from '../../src/storage/create-s3-client.ts';
import { eventually } from '../faults/fault-fixture.ts';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { startSlowDownProxy } from '../helpers/slow-down-proxy.ts';
import { startTestS3, type TestS3 } from '../helpers/test-s3.ts';

const MIB = 1024 * 1024;

function chunks(total: number, size = 256 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let sent = 0; sent < total; sent += size) yield Buffer.alloc(Math.min(size, total - sent), 97);
    })(),
    { objectMode: false },
  );
}

/**
 * `total` bytes that differ from part to part and chunk to chunk (a misplaced or repeated part shows), in odd-sized
 * chunks.
 */
function patterned(total: number, size = 100_003): Readable {
  return Readable.from(
    (function* () {
      for (let sent = 0; sent < total; sent += size) {
        const chunk = Buffer.allocUnsafe(Math.min(size, total - sent));
        for (let i = 0; i < chunk.length; i += 1) chunk[i] = ((sent + i) * 31 + ((sent + i) >> 16)) & 0xff;
        yield chunk;
      }
    })(),
    { objectMode: false },
  );
}

async function sha256(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest('hex');
}

describe('createS3Upload', () => {
  let s3: TestS3;
  beforeEach(async () => {
    s3 = await startTestS3();
  });
  afterEach(async () => {
    await s3.close();
  });

  /** Runs `use` with a client whose requests pass a recording proxy in front of the server, then closes both. */
  async function throughProxy(
    checksums: 'WHEN_REQUIRED' | 'WHEN_SUPPORTED',
    use: (client: S3Client, proxy: FaultProxy) => Promise<void>,
  ): Promise<void> {
    const proxy = await startFaultProxy({ port: s3.server.port });
    const client = createS3Client({
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      checksums,
      credentials: s3.server.credentials,
    });
    try {
      await use(client, proxy);
    } finally {
      client.destroy();
      await proxy.close();
    }
  }

  it('should upload a small body with one PutObject', async () => {
    const upload = createS3Upload(s3.client, {
      bucket: 'ingest',
      key: 'out/small.txt',
      contentType: 'text/plain',
      partSize: 5 * MIB,
      queueSize: 2,
    });
    await pipeline(Readable.from([Buffer.from('hello\n')]), upload.stream);
    expect(await upload.done).to.include({ bucket: 'ingest', key: 'out/small.txt' });
    expect(await readText(s3.client, 'out/small.txt')).to.equal('hello\n');
  });

  it('should upload an empty body as an empty object', async () => {
    const upload = createS3Upload(s3.client, {
      bucket: 'ingest',
      key: 'out/empty.txt',
      contentType: 'text/plain',
      partSize: 5 * MIB,
      queueSize: 2,
    });
    upload.stream.end();
    await upload.done;
    expect(await readText(s3.client, 'out/empty.txt')).to.equal('');
  });

  it('should upload a large body in parts', async () => {
    const upload = createS3Upload(s3.client, {
      bucket: 'ingest',
      key: 'out/large.txt',
      contentType: 'text/plain',
      partSize: 5 * MIB,
      queueSize: 2,
    });
    await pipeline(chunks(12 * MIB), upload.stream);
    await upload.done;
    expect((await readText(s3.client, 'out/large.txt'))?.length).to.equal(12 * MIB);
  });

  it('should abort the multipart upload when its stream is destroyed, and settle only once the abort was answered', async () => {
    const proxy = await startSlowDownProxy(s3.endpoint);
    const client = createS3Client({
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      checksums: 'WHEN_REQUIRED',
      credentials: s3.server.credentials,
    });
    try {
      // A slow AbortMultipartUpload: an upload that settled before its answer would show.
      proxy.rule((request) =>
        request.method === 'DELETE' && request.url.includes('uploadId=') ? { delayMs: 300 } : undefined,
      );
      const upload = createS3Upload(client, {
        bucket: 'ingest',
        key: 'out/cut.txt',
        contentType: 'text/plain',
        partSize: 5 * MIB,
        queueSize: 2,
      });
      const writing = pipeline(chunks(11 * MIB), upload.stream).catch((e: unknown) => e);
      // Let a part go out so a multipart upload exists, then stop the writer without a reason.
      while (!proxy.requests.some((request) => request.url.includes('partNumber=')))
        await new Promise((resolve) => setTimeout(resolve, 5));
      upload.stream.destroy();
      const error = await upload.done.catch((e: unknown) => e);
      const settledAt = Date.now();
      const closedAt = await writing.then(() => Date.now());
      const aborts = proxy.requests.filter(
        (request) => request.method === 'DELETE' && request.url.includes('uploadId='),
      );
      expect(error).to.include({ code: 'cancelled' });
      expect(aborts).to.have.length(1);
      expect(aborts[0]!.finishedAt, 'the abort was answered before done settled').to.be.at.most(settledAt);
      expect(aborts[0]!.finishedAt, 'and before the stream closed').to.be.at.most(closedAt);
      expect(await listKeys(s3.client, 'out/')).to.deep.equal([]);
      expect(await unfinishedUploads(s3.directory)).to.deep.equal([]);
    } finally {
      client.destroy();
      await proxy.close();
    }
  });

  it('should stop its PutObject under way when destroyed after its body ended: nothing is stored', async () => {
    await throughProxy('WHEN_REQUIRED', async (client, proxy) => {
      // The PutObject waits at the proxy: its body was all written, S3 has not stored it yet.
      const put = proxy.holdUntilReleased(
        (request) => request.method === 'PUT' && request.path.startsWith('/ingest/out/late.txt'),
      );
      const upload = createS3Upload(client, {
        bucket: 'ingest',
        key: 'out/late.txt',
        contentType: 'text/plain',
        partSize: 5 * MIB,
        queueSize: 2,
      });
      upload.stream.end(Buffer.from('one small body\n'));
      await put.arrived;
      upload.stream.destroy(new AppError('cancelled', 'The job was cancelled.'));
      const error = await upload.done.catch((e: unknown) => e);
      expect(error).to.include({ code: 'cancelled', message: 'The job was cancelled.' });
      // Its connection closed (the proxy drops a held request then); were it still open, the proxy would now
      // hand the request to S3.
      await eventually(async () => (proxy.openConnections === 0 ? true : undefined), 5_000, 'the PUT to be dropped');
      put.release();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await listKeys(s3.client, 'out/'), 'nothing stored once done settled').to.deep.equal([]);
    });
  });

  it('should reject with the reason it was destroyed with', async () => {
    const upload = createS3Upload(s3.client, {
      bucket: 'ingest',
      key: 'out/reason.txt',
      contentType: 'text/plain',
      partSize: 5 * MIB,
      queueSize: 2,
    });
    const writing = pipeline(chunks(11 * MIB), upload.stream).catch(() => undefined);
    while ((await unfinishedUploads(s3.directory)).length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    upload.stream.destroy(new AppError('validation_failed', 'The client sent a malformed body.'));
    const error = await upload.done.catch((e: unknown) => e);
    await writing;
    expect(error).to.include({ code: 'validation_failed', message: 'The client sent a malformed body.' });
    expect(await listKeys(s3.client, 'out/')).to.deep.equal([]);
    expect(await unfinishedUploads(s3.directory)).to.deep.equal([]);
  });

  it('should store a body of many parts byte for byte, part boundaries inside chunks, and report its size', async () => {
    const total = 17 * MIB + 12_345;
    const upload = createS3Upload(s3.client, {
      bucket: 'ingest',
      key: 'out/parts.bin',
      contentType: 'application/octet-stream',
      partSize: 5 * MIB,
      queueSize: 2,
    });
    await pipeline(patterned(total), upload.stream);
    const result = await upload.done;
    const stored = await s3.client.send(new GetObjectCommand({ Bucket: 'ingest', Key: 'out/parts.bin' }));
    expect(stored.ContentLength).to.equal(total);
    expect(await sha256(stored.Body as AsyncIterable<Uint8Array>)).to.equal(await sha256(patterned(total)));
    expect(result).to.include({ size: total });
    expect(result.etag).to.be.a('string');
  });

  it('should store a body of exactly one part size', async () => {
    const upload = createS3Upload(s3.client, {
      bucket: 'ingest',
      key: 'out/one-part.bin',
      contentType: 'application/octet-stream',
      partSize: 5 * MIB,
      queueSize: 2,
    });
    await pipeline(patterned(5 * MIB), upload.stream);
    expect(await upload.done).to.include({ size: 5 * MIB });
    const stored = await s3.client.send(new GetObjectCommand({ Bucket: 'ingest', Key: 'out/one-part.bin' }));
    expect(await sha256(stored.Body as AsyncIterable<Uint8Array>)).to.equal(await sha256(patterned(5 * MIB)));
  });

  it('should keep at most queueSize parts in flight (S3_QUEUE_SIZE)', async () => {
    const proxy = await startSlowDownProxy(s3.endpoint);
    const client = createS3Client({
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      checksums: 'WHEN_REQUIRED',
      credentials: s3.server.credentials,
    });
    try {
      // Every part is answered late, so a writer that did not wait would have them all in flight at once.
      proxy.rule((request) => (request.url.includes('partNumber=') ? { delayMs: 150 } : undefined));
      const upload = createS3Upload(client, {
        bucket: 'ingest',
        key: 'out/queued.bin',
        contentType: 'application/octet-stream',
        partSize: 5 * MIB,
        queueSize: 2,
      });
      await pipeline(patterned(26 * MIB), upload.stream);
      await upload.done;
      const parts = proxy.requests.filter((request) => request.url.includes('partNumber='));
      expect(parts).to.have.length(6);
      const mostAtOnce = Math.max(
        ...parts.map(
          (part) => parts.filter((other) => other.at <= part.at && (other.finishedAt ?? Infinity) > part.at).length,
        ),
      );
      expect(mostAtOnce).to.equal(2);
    } finally {
      client.destroy();
      await proxy.close();
    }
  });

  it('should abort the multipart upload and reject, retryable, when S3 refuses a part', async () => {
    const proxy = await startSlowDownProxy(s3.endpoint);
    const client = createS3Client({
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      checksums: 'WHEN_REQUIRED',
      credentials: s3.server.credentials,
      maxAttempts: 1,
    });
    try {
      proxy.rule((request) =>
        request.url.includes('partNumber=2') ? { status: 500, code: 'InternalError' } : undefined,
      );
      const upload = createS3Upload(client, {
        bucket: 'ingest',
        key: 'out/refused.bin',
        contentType: 'application/octet-stream',
        partSize: 5 * MIB,
        queueSize: 2,
      });
      const writing = pipeline(patterned(30 * MIB), upload.stream).catch((e: unknown) => e);
      const error = await upload.done.catch((e: unknown) => e);
      expect(await writing, 'the writer is stopped with the same error').to.equal(error);
      expect(error).to.include({ code: 's3_unavailable', retryable: true });
      expect(
        proxy.requests.filter((request) => request.method === 'DELETE' && request.url.includes('uploadId=')),
      ).to.have.length(1);
      expect(await listKeys(s3.client, 'out/')).to.deep.equal([]);
      expect(await unfinishedUploads(s3.directory)).to.deep.equal([]);
    } finally {
      client.destroy();
      await proxy.close();
    }
  });

  it('should ask for server-side encryption on PutObject and CreateMultipartUpload, not on the parts (S3_SSE)', async () => {
    // s3rver neither stores nor returns x-amz-server-side-encryption: the requests are checked on the way.
    await throughProxy('WHEN_REQUIRED', async (client, proxy) => {
      const sse = { algorithm: 'aws:kms', kmsKeyId: 'alias/ingest' } as const;
      const small = createS3Upload(client, {
        bucket: 'ingest',
        key: 'out/sse-small.txt',
        contentType: 'text/plain',
        partSize: 5 * MIB,
        queueSize: 2,
        sse,
      });
      await pipeline(Readable.from([Buffer.from('hello\n')]), small.stream);
      await small.done;
      const large = createS3Upload(client, {
        bucket: 'ingest',
        key: 'out/sse-large.bin',
        contentType: 'application/octet-stream',
        partSize: 5 * MIB,
        queueSize: 2,
        sse: { algorithm: 'AES256', kmsKeyId: undefined },
      });
      await pipeline(patterned(11 * MIB), large.stream);
      await large.done;

      const put = proxy.requests.filter(
        (request) => request.method === 'PUT' && request.path.startsWith('/ingest/out/sse-small.txt'),
      );
      const create = proxy.requests.filter(
        (request) => request.method === 'POST' && request.path.startsWith('/ingest/out/sse-large.bin?uploads'),
      );
      const parts = proxy.requests.filter(
        (request) => request.method === 'PUT' && request.path.includes('partNumber='),
      );
      expect(
        put.map((request) => [
          request.headers['x-amz-server-side-encryption'],
          request.headers['x-amz-server-side-encryption-aws-kms-key-id'],
        ]),
      ).to.deep.equal([['aws:kms', 'alias/ingest']]);
      expect(
        create.map((request) => [
          request.headers['x-amz-server-side-encryption'],
          request.headers['x-amz-server-side-encryption-aws-kms-key-id'],
        ]),
      ).to.deep.equal([['AES256', undefined]]);
      expect(parts).to.have.length(3);
      expect(parts.map((request) => request.headers['x-amz-server-side-encryption'])).to.deep.equal([
        undefined,
        undefined,
        undefined,
      ]);
    });
  });

  it('should send no encryption header without S3_SSE (the bucket default applies)', async () => {
    await throughProxy('WHEN_REQUIRED', async (client, proxy) => {
      const upload = createS3Upload(client, {
        bucket: 'ingest',
        key: 'out/plain.txt',
        contentType: 'text/plain',
        partSize: 5 * MIB,
        queueSize: 2,
      });
      await pipeline(Readable.from([Buffer.from('hello\n')]), upload.stream);
      await upload.done;
      const put = proxy.requests.filter((request) => request.method === 'PUT');
      expect(put).to.have.length(1);
      expect(
        Object.keys(put[0]!.headers).filter((name) => name.startsWith('x-amz-server-side-encryption')),
      ).to.deep.equal([]);
    });
  });

  // s3rver takes the checksum headers and <ChecksumCRC32> in CompleteMultipartUpload, but neither checks,
  // stores nor returns any checksum: what real S3 would verify is checked here on the requests.
  it('should send a CRC32 of every part, named on CreateMultipartUpload, and store the body byte for byte (WHEN_SUPPORTED)', async () => {
    await throughProxy('WHEN_SUPPORTED', async (client, proxy) => {
      const total = 12 * MIB + 777;
      const upload = createS3Upload(client, {
        bucket: 'ingest',
        key: 'out/crc.bin',
        contentType: 'application/octet-stream',
        partSize: 5 * MIB,
        queueSize: 2,
      });
      await pipeline(patterned(total), upload.stream);
      expect(await upload.done).to.include({ size: total });

      const body = Buffer.concat((await patterned(total).toArray()) as Buffer[]);
      const create = proxy.requests.filter((request) => request.method === 'POST' && request.path.includes('?uploads'));
      const parts = proxy.requests
        .filter((request) => request.path.includes('partNumber='))
        .sort((a, b) => partNumber(a.path) - partNumber(b.path));
      expect(create.map((request) => request.headers['x-amz-checksum-algorithm'])).to.deep.equal(['CRC32']);
      expect(parts.map((request) => request.headers['x-amz-checksum-crc32'])).to.deep.equal(
        [0, 1, 2].map((i) => crc32Base64(body.subarray(i * 5 * MIB, (i + 1) * 5 * MIB))),
      );
      const stored = await s3.client.send(new GetObjectCommand({ Bucket: 'ingest', Key: 'out/crc.bin' }));
      expect(await sha256(stored.Body as AsyncIterable<Uint8Array>)).to.equal(
        createHash('sha256').update(body).digest('hex'),
      );
    });
  });

  it('should send no checksum with the parts for stores that do not know them (WHEN_REQUIRED)', async () => {
    await throughProxy('WHEN_REQUIRED', async (client, proxy) => {
      const upload = createS3Upload(client, {
        bucket: 'ingest',
        key: 'out/no-crc.bin',
        contentType: 'application/octet-stream',
        partSize: 5 * MIB,
        queueSize: 2,
      });
      await pipeline(patterned(11 * MIB), upload.stream);
      await upload.done;
      const checksumHeaders = proxy.requests.flatMap((request) =>
        Object.keys(request.headers).filter(
          (name) => name.startsWith('x-amz-checksum') || name === 'x-amz-sdk-checksum-algorithm',
        ),
      );
      expect(proxy.requests.filter((request) => request.path.includes('partNumber='))).to.have.length(3);
      expect(checksumHeaders).to.deep.equal([]);
    });
  });
});

function partNumber(path: string): number {
  return Number(/partNumber=(\d+)/.exec(path)?.[1]);
}

function crc32Base64(data: Buffer): string {
  const value = Buffer.alloc(4);
  value.writeUInt32BE(crc32(data));
  return value.toString('base64');
}
