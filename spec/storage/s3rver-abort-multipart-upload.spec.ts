import { AbortMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { createS3Client } from '../../src/storage/create-s3-client.ts';
import { EMBEDDED_S3_CREDENTIALS } from '../../src/storage/embedded-s3.ts';
import { supportAbortMultipartUpload } from '../../src/storage/s3rver-abort-multipart-upload.ts';
import { unfinishedUploads } from '../helpers/csv-job-fixture.ts';

describe('supportAbortMultipartUpload', () => {
  let directory: string;
  let server: S3rver;
  let client: ReturnType<typeof createS3Client>;

  before(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 's3rver-abort-'));
    server = new S3rver({
      port: 0,
      address: '127.0.0.1',
      directory,
      silent: true,
      configureBuckets: [{ name: 'ingest', configs: [] }],
    });
    supportAbortMultipartUpload(server, directory);
    const { port } = (await server.run()) as AddressInfo;
    client = createS3Client({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      checksums: 'WHEN_REQUIRED',
      credentials: EMBEDDED_S3_CREDENTIALS,
    });
  });
  after(async () => {
    client.destroy();
    await server.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('should remove the parts of an aborted multipart upload', async () => {
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'ingest', Key: 'a/b.ndjson' }));
    await client.send(
      new UploadPartCommand({ Bucket: 'ingest', Key: 'a/b.ndjson', UploadId, PartNumber: 1, Body: 'part' }),
    );
    expect(await unfinishedUploads(directory)).to.deep.equal([UploadId]);
    await client.send(new AbortMultipartUploadCommand({ Bucket: 'ingest', Key: 'a/b.ndjson', UploadId }));
    expect(await unfinishedUploads(directory)).to.deep.equal([]);
  });

  it('should answer NoSuchUpload for an unknown upload id', async () => {
    const error = await client
      .send(new AbortMultipartUploadCommand({ Bucket: 'ingest', Key: 'a/b.ndjson', UploadId: 'deadbeefdeadbeef' }))
      .catch((e: unknown) => e);
    expect(error).to.have.property('name', 'NoSuchUpload');
  });
});
