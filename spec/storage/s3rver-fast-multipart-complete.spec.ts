import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createS3Client } from '../../src/storage/create-s3-client.ts';
import { startEmbeddedS3, type EmbeddedS3, type EmbeddedS3Event } from '../../src/storage/embedded-s3.ts';
import { unfinishedUploads } from '../helpers/csv-job-fixture.ts';

describe('completeMultipartUploadsInPlace (the embedded S3 server)', () => {
  let directory: string;
  let s3: EmbeddedS3;
  let client: ReturnType<typeof createS3Client>;
  const events: EmbeddedS3Event[] = [];
  const Bucket = 'ingest';

  before(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 's3rver-complete-'));
    s3 = await startEmbeddedS3({ port: 0, directory, buckets: [Bucket], onEvent: (event) => events.push(event) });
    client = createS3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      checksums: 'WHEN_REQUIRED',
      credentials: s3.credentials,
    });
  });
  after(async () => {
    client.destroy();
    await s3.close();
    await rm(directory, { recursive: true, force: true });
  });

  async function startUpload(Key: string, bodies: readonly Buffer[], order: readonly number[]) {
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket, Key, ContentType: 'application/x-ndjson' }),
    );
    const etags = new Map<number, string>();
    for (const index of order) {
      const { ETag } = await client.send(
        new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: index + 1, Body: bodies[index] }),
      );
      etags.set(index + 1, ETag!);
    }
    return { UploadId: UploadId!, etags };
  }

  it("should store the parts in part order, byte for byte, with S3's multipart ETag", async () => {
    const bodies = [randomBytes(300_000), randomBytes(5), randomBytes(1_500_000)];
    const Key = 'out/assembled.ndjson';
    const { UploadId, etags } = await startUpload(Key, bodies, [2, 0, 1]);
    const Parts = [1, 2, 3].map((PartNumber) => ({ PartNumber, ETag: etags.get(PartNumber)! }));
    const done = await client.send(
      new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }),
    );

    const stored = Buffer.from(
      await (await client.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToByteArray(),
    );
    expect(stored.equals(Buffer.concat(bodies))).to.equal(true);
    // S3: the MD5 of the parts' binary MD5s, then the number of parts.
    const partMd5s = bodies.map((body) => createHash('md5').update(body).digest());
    const expected = `"${createHash('md5').update(Buffer.concat(partMd5s)).digest('hex')}-3"`;
    expect(done.ETag).to.equal(expected);
    const head = await client.send(new HeadObjectCommand({ Bucket, Key }));
    expect(head).to.include({ ETag: expected, ContentLength: 1_800_005, ContentType: 'application/x-ndjson' });
    expect(await unfinishedUploads(directory)).to.deep.equal([]);
    expect(events.map((event) => [event.eventName, event.s3.object.key])).to.deep.include(['ObjectCreated:Post', Key]);
  });

  it('should refuse a part that was never uploaded with InvalidPart and keep the upload completable', async () => {
    const bodies = [randomBytes(1000), randomBytes(2000)];
    const Key = 'out/retried.ndjson';
    const { UploadId, etags } = await startUpload(Key, bodies, [0, 1]);
    const Parts = [1, 2].map((PartNumber) => ({ PartNumber, ETag: etags.get(PartNumber)! }));
    const refused = await client
      .send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: [...Parts, { PartNumber: 3, ETag: etags.get(2)! }] },
        }),
      )
      .catch((error: unknown) => error);
    expect(refused).to.have.property('name', 'InvalidPart');
    expect(refused).to.have.nested.property('$metadata.httpStatusCode', 400);
    expect(await unfinishedUploads(directory)).to.deep.equal([UploadId]);

    await client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }));
    const stored = Buffer.from(
      await (await client.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToByteArray(),
    );
    expect(stored.equals(Buffer.concat(bodies))).to.equal(true);
  });

  it("should refuse an ETag that is not the part's own (the .md5 s3rver wrote) with InvalidPart and keep the upload completable", async () => {
    const bodies = [randomBytes(1000), randomBytes(2000)];
    const Key = 'out/mismatched.ndjson';
    const { UploadId, etags } = await startUpload(Key, bodies, [0, 1]);
    const swapped = [
      { PartNumber: 1, ETag: etags.get(2)! },
      { PartNumber: 2, ETag: etags.get(1)! },
    ];
    const refused = await client
      .send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: swapped } }))
      .catch((error: unknown) => error);
    expect(refused).to.have.property('name', 'InvalidPart');
    expect(refused).to.have.nested.property('$metadata.httpStatusCode', 400);
    expect(await unfinishedUploads(directory)).to.include(UploadId);
    const done = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: [1, 2].map((PartNumber) => ({ PartNumber, ETag: etags.get(PartNumber)! })) },
      }),
    );
    const partMd5s = bodies.map((body) => createHash('md5').update(body).digest());
    expect(done.ETag).to.equal(`"${createHash('md5').update(Buffer.concat(partMd5s)).digest('hex')}-2"`);
  });

  it('should leave the upload completable when completing fails half-way', async () => {
    const bodies = [randomBytes(300_000), randomBytes(200_000), randomBytes(100)];
    const Key = 'out/blocked.ndjson';
    const { UploadId, etags } = await startUpload(Key, bodies, [0, 1, 2]);
    const Parts = [1, 2, 3].map((PartNumber) => ({ PartNumber, ETag: etags.get(PartNumber)! }));
    // Something in the way of the assembled object: its rename into place fails, after the parts were put together.
    const inTheWay = path.join(directory, Bucket, 'out', 'blocked.ndjson._S3rver_object');
    await mkdir(inTheWay, { recursive: true });
    await writeFile(path.join(inTheWay, 'file'), 'x');
    const failed = await client
      .send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }))
      .catch((error: unknown) => error);
    expect(failed).to.have.property('name', 'InternalError');
    expect(await unfinishedUploads(directory)).to.include(UploadId);

    await rm(inTheWay, { recursive: true });
    await client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }));
    const stored = Buffer.from(
      await (await client.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToByteArray(),
    );
    expect(stored.equals(Buffer.concat(bodies))).to.equal(true);
    expect(await unfinishedUploads(directory)).not.to.include(UploadId);
  });

  it('should replace an existing object whole', async () => {
    const Key = 'out/replaced.ndjson';
    const first = await startUpload(Key, [Buffer.from('old '.repeat(1000))], [0]);
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId: first.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: first.etags.get(1)! }] },
      }),
    );
    const bodies = [Buffer.from('new '), Buffer.from('object')];
    const second = await startUpload(Key, bodies, [0, 1]);
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId: second.UploadId,
        MultipartUpload: { Parts: [1, 2].map((PartNumber) => ({ PartNumber, ETag: second.etags.get(PartNumber)! })) },
      }),
    );
    const stored = await (await client.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToString();
    expect(stored).to.equal('new object');
  });
});
