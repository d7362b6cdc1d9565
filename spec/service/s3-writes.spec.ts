import { GetObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { generateCsv, listKeys, readOutputs, unfinishedUploads } from '../helpers/csv-job-fixture.ts';
import { startFaultProxy, type FaultProxy, type ProxiedRequest } from '../helpers/fault-proxy.ts';
import { startTestS3, type TestS3 } from '../helpers/test-s3.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/test-service.ts';

const MIB = 1024 * 1024;
/** About 6.8 MiB of CSV: the upload and the job's rows both take two 5 MiB parts. */
const CSV = generateCsv(100_000);
const KEY = 'incoming/big.csv';

/** The requests that create an object: PutObject and CreateMultipartUpload (not the parts, not the completion). */
function objectWrites(requests: readonly ProxiedRequest[]): ProxiedRequest[] {
  return requests.filter(
    (request) =>
      (request.method === 'PUT' && !request.path.includes('partNumber=')) ||
      (request.method === 'POST' && /\?uploads\b/.test(request.path)),
  );
}

function keyOf(request: ProxiedRequest): string {
  return decodeURIComponent(request.path.replace(/^\/ingest\//, '').replace(/\?.*$/, ''));
}

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The whole service against an S3 endpoint behind a recording proxy: a file
 * uploaded over HTTP, then the job it starts run in a worker thread, so every
 * way the service writes to S3 is seen (upload, rows, rejects, manifest).
 */
describe('the service writing to S3', function () {
  this.timeout(60_000);
  let s3: TestS3;
  let proxy: FaultProxy;
  let svc: TestService | undefined;

  beforeEach(async () => {
    s3 = await startTestS3();
    proxy = await startFaultProxy({ port: s3.server.port });
  });
  afterEach(async () => {
    await svc?.stop();
    svc = undefined;
    await proxy.close();
    await s3.close();
  });

  async function uploadAndProcess(env: Record<string, string>): Promise<Record<string, unknown>> {
    svc = await startTestService({
      env: {
        S3_ENDPOINT: proxy.endpoint,
        S3_FORCE_PATH_STYLE: 'true',
        S3_PART_SIZE: String(5 * MIB),
        S3_QUEUE_SIZE: '2',
        JOB_CONCURRENCY: '1',
        ...env,
      },
    });
    const body = new FormData();
    body.append('key', KEY);
    body.append('file', new Blob([CSV], { type: 'text/csv' }), 'big.csv');
    const response = await svc.fetch('/v1/uploads', { method: 'POST', body });
    const answer = (await response.json()) as { upload: { size: number }; job: { id: string } };
    expect(response.status, JSON.stringify(answer)).to.equal(201);
    expect(answer.upload.size).to.equal(CSV.length);
    return waitForJob(svc, answer.job.id, undefined, 45_000);
  }

  it('should ask for S3_SSE on every object it writes: the upload, rows, rejects and manifest', async () => {
    const job = await uploadAndProcess({ S3_SSE: 'aws:kms', S3_SSE_KMS_KEY_ID: 'alias/ingest' });
    expect(job['status'], JSON.stringify(job['error'])).to.equal('succeeded');

    const writes = objectWrites(proxy.requests);
    expect(writes.map((request) => `${request.method} ${keyOf(request)}`).sort()).to.deep.equal([
      `POST ${KEY}`,
      `POST processed/ingest/${KEY}/rows.ndjson`,
      `PUT processed/ingest/${KEY}/manifest.json`,
      `PUT processed/ingest/${KEY}/rejects.ndjson`,
    ]);
    for (const request of writes) {
      expect(
        [
          request.headers['x-amz-server-side-encryption'],
          request.headers['x-amz-server-side-encryption-aws-kms-key-id'],
        ],
        keyOf(request),
      ).to.deep.equal(['aws:kms', 'alias/ingest']);
    }
    const stored = await s3.client.send(new GetObjectCommand({ Bucket: 'ingest', Key: KEY }));
    expect(sha256(await stored.Body!.transformToByteArray())).to.equal(sha256(CSV));
    expect(await unfinishedUploads(s3.directory)).to.deep.equal([]);
    expect(await listKeys(s3.client, 'processed/')).to.have.length(3);
  });

  // Real AWS endpoints get WHEN_SUPPORTED: every part carries a CRC32 that S3 checks, and
  // CompleteMultipartUpload must match the algorithm named at creation. s3rver accepts the
  // headers but checks none of it; the requests themselves are checked here.
  for (const mode of ['WHEN_SUPPORTED', 'WHEN_REQUIRED'] as const) {
    it(`should store a multipart upload and a multipart job output byte for byte with S3_CHECKSUMS=${mode}`, async () => {
      const job = await uploadAndProcess({ S3_CHECKSUMS: mode });
      expect(job['status'], JSON.stringify(job['error'])).to.equal('succeeded');

      const creates = proxy.requests.filter((request) => request.method === 'POST' && /\?uploads\b/.test(request.path));
      const parts = proxy.requests.filter(
        (request) => request.method === 'PUT' && request.path.includes('partNumber='),
      );
      expect(creates.map(keyOf).sort()).to.deep.equal([KEY, `processed/ingest/${KEY}/rows.ndjson`]);
      expect(parts.length).to.be.at.least(4);
      const named = mode === 'WHEN_SUPPORTED' ? 'CRC32' : undefined;
      expect(creates.map((request) => request.headers['x-amz-checksum-algorithm'])).to.deep.equal([named, named]);
      expect(
        parts.filter(
          (request) => (request.headers['x-amz-checksum-crc32'] !== undefined) !== (mode === 'WHEN_SUPPORTED'),
        ),
        'parts with or without a CRC32 as the mode says',
      ).to.deep.equal([]);

      const stored = await s3.client.send(new GetObjectCommand({ Bucket: 'ingest', Key: KEY }));
      expect(sha256(await stored.Body!.transformToByteArray())).to.equal(sha256(CSV));
      const outputs = await readOutputs(s3.client, KEY);
      expect(outputs.rows).to.have.length(100_000);
      expect(outputs.rejects).to.deep.equal([]);
      expect(outputs.manifest).to.include({ rows: 100_000, rejected: 0 });
      expect(await unfinishedUploads(s3.directory)).to.deep.equal([]);
    });
  }
});
