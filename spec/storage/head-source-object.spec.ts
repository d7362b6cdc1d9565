import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { createS3Client } from '../../src/storage/create-s3-client.ts';
import { headSourceObject } from '../../src/storage/head-source-object.ts';
import { rejectionOf } from '../helpers/rejection-of.ts';
import { startTestS3, type TestS3 } from '../helpers/test-s3.ts';

describe('headSourceObject', () => {
  let s3: TestS3;
  before(async () => {
    s3 = await startTestS3();
    await s3.client.send(new PutObjectCommand({ Bucket: 'ingest', Key: 'here.csv', Body: 'a\n1\n' }));
  });
  after(async () => s3.close());

  it('should give the ETag and size of an object that exists', async () => {
    const head = await headSourceObject(s3.client, 'ingest', 'here.csv', undefined);
    expect(head).to.deep.include({ size: 4, versionId: null });
    expect(head?.etag).to.match(/^"[0-9a-f]{32}"$/);
  });

  it('should answer undefined for a missing key in a bucket that exists', async () => {
    expect(await headSourceObject(s3.client, 'ingest', 'not-here.csv', undefined)).to.equal(undefined);
  });

  it('should fail with no_such_bucket when the bucket does not exist', async () => {
    const error = await rejectionOf(headSourceObject(s3.client, 'ghost-bucket', 'a.csv', undefined));
    expect(error.code).to.equal('no_such_bucket');
    expect(error.message).to.include('"ghost-bucket"');
  });

  it('should fail with access_denied when S3 refuses the credentials', async () => {
    const stranger = createS3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      checksums: 'WHEN_REQUIRED',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'wrong-secret' },
    });
    try {
      const error = await rejectionOf(headSourceObject(stranger, 'ingest', 'here.csv', undefined));
      expect(error).to.include({ code: 'access_denied', retryable: false });
    } finally {
      stranger.destroy();
    }
  });

  it('should fail retryable when S3 cannot be reached', async () => {
    const nowhere = createS3Client({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      forcePathStyle: true,
      checksums: 'WHEN_REQUIRED',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      maxAttempts: 1,
    });
    try {
      const error = await rejectionOf(headSourceObject(nowhere, 'ingest', 'here.csv', undefined));
      expect(error).to.include({ code: 's3_unavailable', retryable: true });
    } finally {
      nowhere.destroy();
    }
  });
});
