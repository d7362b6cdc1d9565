import type { S3Client } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { runCsvJob } from '../../src/jobs/run-csv-job.ts';
import { createS3Client } from '../../src/storage/create-s3-client.ts';
import {
  PREFIX,
  depsFor,
  generateCsv,
  jobFor,
  listKeys,
  putObject,
  readOutputs,
  unfinishedUploads,
} from '../helpers/csv-job-fixture.ts';
import { startFaultProxy, type FaultProxy, type ProxiedRequest } from '../helpers/fault-proxy.ts';
import { startSlowDownProxy } from '../helpers/slow-down-proxy.ts';
import { startTestS3, type TestS3 } from '../helpers/test-s3.ts';

describe('runCsvJob (faults, cancellation, re-runs)', () => {
  let s3: TestS3;
  let proxy: FaultProxy;
  let client: S3Client;
  const signal = () => new AbortController().signal;

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
  });
  afterEach(async () => {
    client.destroy();
    await proxy.close();
    await s3.close();
  });

  it('should resume a GET cut mid-body and write the same outputs as an unbroken run', async () => {
    const csv = `${generateCsv(5000)}not,enough\n`;
    await putObject(s3.client, 'faults/a.csv', csv);
    await runCsvJob(jobFor('faults/a.csv'), depsFor(s3.client), { signal: signal() });
    const unbroken = await readOutputs(s3.client, 'faults/a.csv');

    const isSourceGet = (request: ProxiedRequest) =>
      request.method === 'GET' && request.path.startsWith('/ingest/faults/a.csv?');
    proxy.cutGet(100_000, { match: isSourceGet });
    const result = await runCsvJob(jobFor('faults/a.csv'), depsFor(client), { signal: signal() });
    const resumed = await readOutputs(s3.client, 'faults/a.csv');

    expect(resumed.texts).to.deep.equal(unbroken.texts);
    expect(resumed.rows).to.have.length(5000);
    expect(resumed.rejects).to.have.length(1);
    expect(result.progress).to.include({ bytesRead: csv.length, rows: 5000, rejected: 1 });
    expect(proxy.requests.filter(isSourceGet).map((request) => request.range)).to.deep.equal([
      undefined,
      'bytes=100000-',
    ]);
  });

  it('should leave no output and no unfinished multipart upload when cancelled mid-job', async () => {
    // About 25 MiB of rows: with every part held, lib-storage (2 parts of 5 MiB at once) stops reading
    // long before the end, so the cancel always finds the body still streaming, never a finished one.
    await putObject(s3.client, 'faults/big.csv', generateCsv(200_000));
    const controller = new AbortController();
    const parts = proxy.holdUntilReleased(
      (request) => request.method === 'PUT' && request.path.includes('partNumber='),
    );

    const running = runCsvJob(jobFor('faults/big.csv'), depsFor(client), { signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    await parts.arrived;
    controller.abort();
    parts.release();
    const error = await running;

    expect(error).to.include({ code: 'cancelled', retryable: false });
    expect(await listKeys(s3.client, PREFIX)).to.deep.equal([]);
    const created = proxy.requests.filter((r) => r.method === 'POST' && r.path.includes('?uploads'));
    const aborted = proxy.requests.filter((r) => r.method === 'DELETE' && r.path.includes('uploadId='));
    expect(created).to.have.length.greaterThan(0);
    expect(aborted).to.have.length(created.length);
    expect(await unfinishedUploads(s3.directory)).to.deep.equal([]);
  });

  it('should overwrite the same keys with the same content on a re-run', async () => {
    await putObject(s3.client, 'faults/again.csv', 'a,b\n1,2\n3\n');
    const first = await runCsvJob(jobFor('faults/again.csv'), depsFor(client), { signal: signal() });
    const before = await readOutputs(s3.client, 'faults/again.csv');
    const second = await runCsvJob(jobFor('faults/again.csv'), depsFor(client), { signal: signal(), attempt: 2 });
    const after = await readOutputs(s3.client, 'faults/again.csv');

    expect(second.output).to.deep.equal(first.output);
    expect(after.texts).to.deep.equal(before.texts);
    expect(after.texts.rows).to.equal('{"a":"1","b":"2"}\n');
    const { timings: _t1, attempt: _a1, ...firstManifest } = first.manifest;
    const { timings: _t2, attempt: _a2, ...secondManifest } = second.manifest;
    expect(secondManifest).to.deep.equal(firstManifest);
    expect(after.manifest).to.include({ attempt: 2 });
    expect(await listKeys(s3.client, PREFIX)).to.have.length(3);
  });

  it('should remove earlier outputs when a re-run fails, so no manifest vouches for them', async () => {
    await putObject(s3.client, 'faults/later-bad.csv', 'a,b\n1,2\n');
    await runCsvJob(jobFor('faults/later-bad.csv'), depsFor(client), { signal: signal() });
    expect(await listKeys(s3.client, PREFIX)).to.have.length(3);
    await putObject(s3.client, 'faults/later-bad.csv', 'a,b\n1,"2\n');
    const error = await runCsvJob(jobFor('faults/later-bad.csv'), depsFor(client), { signal: signal() }).catch(
      (e: unknown) => e,
    );
    expect(error).to.include({ code: 'csv_invalid' });
    expect(await listKeys(s3.client, PREFIX)).to.deep.equal([]);
  });

  it("should not settle a failed attempt while its clean-up deletes are still in flight, so they cannot remove the next attempt's outputs", async () => {
    // The manifest delete is refused at once and the rows delete answered late: a failed
    // attempt that settled on the first refusal would leave the rows delete running, and it
    // would land after a retry had written new rows.
    await putObject(s3.client, 'faults/cleanup.csv', 'a,b\n1,"2\n');
    const slow = await startSlowDownProxy(s3.server.endpoint);
    const slowClient = createS3Client({
      endpoint: slow.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      checksums: 'WHEN_REQUIRED',
      credentials: s3.server.credentials,
    });
    try {
      const isDelete = (request: { method: string; url: string }, name: string) =>
        request.method === 'DELETE' && request.url.startsWith(`/ingest/processed/ingest/faults/cleanup.csv/${name}`);
      slow.rule((request) => (isDelete(request, 'manifest.json') ? { status: 403, code: 'AccessDenied' } : undefined));
      slow.rule((request) => (isDelete(request, 'rows.ndjson') ? { delayMs: 400 } : undefined));

      const error = await runCsvJob(jobFor('faults/cleanup.csv'), depsFor(slowClient), { signal: signal() }).catch(
        (e: unknown) => e,
      );
      expect(error).to.include({ code: 'access_denied' });
      expect(
        slow.requests.filter((request) => request.finishedAt === undefined),
        'requests still in flight',
      ).to.deep.equal([]);

      // What the next attempt writes stays.
      await putObject(s3.client, 'processed/ingest/faults/cleanup.csv/rows.ndjson', '{"a":"1"}\n');
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(await listKeys(s3.client, PREFIX)).to.deep.equal(['processed/ingest/faults/cleanup.csv/rows.ndjson']);
    } finally {
      slowClient.destroy();
      await slow.close();
    }
  });
});
