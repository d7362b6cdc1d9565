import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { postTrigger } from '../helpers/post-trigger.ts';
import { startTestService, waitForJob, type TestService } from '../helpers/test-service.ts';

/**
 * About 600 KB: quoted delimiters, doubled quotes, quoted line breaks that look like records, CRLF and LF, ragged rows.
 */
function object(): Buffer {
  const lines = ['\uFEFFid;name;note\r\n'];
  for (let i = 0; i < 12_000; i += 1) {
    const end = i % 3 === 0 ? '\r\n' : '\n';
    if (i % 97 === 0) lines.push(`${i};"multi\n${i + 1};looks;like a record\r\nend";x${end}`);
    else if (i % 89 === 0) lines.push(`${i};ragged${end}`);
    else if (i % 7 === 0) lines.push(`${i};"say ""hi""; ok";12" pipe${end}`);
    else lines.push(`${i};name ${i};${'n'.repeat(i % 40)}${end}`);
    if (i % 500 === 0) lines.push(end);
  }
  return Buffer.from(lines.join(''));
}

async function read(svc: TestService, key: string): Promise<string> {
  const response = await svc.service.s3.send(new GetObjectCommand({ Bucket: 'ingest', Key: key }));
  return response.Body!.transformToString();
}

/** Runs `key` on `svc` and returns the job's outputs and manifest (timings and attempt-specific fields dropped). */
async function run(svc: TestService, key: string, body: Buffer) {
  await svc.service.s3.send(new PutObjectCommand({ Bucket: 'ingest', Key: key, Body: body }));
  const id = (await postTrigger(svc, { key })).body.jobs[0].id as string;
  const job = await waitForJob(svc, id, undefined, 60_000);
  const base = `processed/ingest/${key}/`;
  const {
    timings: _timings,
    jobId: _jobId,
    ...manifest
  } = JSON.parse(await read(svc, `${base}manifest.json`)) as Record<string, unknown>;
  return {
    status: job['status'],
    rows: await read(svc, `${base}rows.ndjson`),
    rejects: await read(svc, `${base}rejects.ndjson`),
    manifest,
  };
}

/** Lines before the header in `preamble/` objects: about 150 KB, over two first blocks. */
const PREAMBLE_LINES = 4000;

describe('one object in blocks (whole service)', function () {
  this.timeout(120_000);
  let blocks: TestService;
  let sequential: TestService;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'csv-blocks-'));
    // Lines before the header: more than the first block holds.
    await writeFile(
      path.join(dir, 'pipelines.json'),
      JSON.stringify({ pipelines: [{ name: 'preamble', match: 'preamble/**', csv: { skipLines: PREAMBLE_LINES } }] }),
    );
    const env = {
      LOG_LEVEL: 'warn',
      JOB_CONCURRENCY: '1',
      WORKER_THREADS: '2',
      PIPELINES_FILE: path.join(dir, 'pipelines.json'),
    };
    blocks = await startTestService({ env: { ...env, CSV_BLOCK_BYTES: '65536' }, embeddedS3Events: false });
    sequential = await startTestService({ env: { ...env, CSV_BLOCK_BYTES: '0' }, embeddedS3Events: false });
  });
  after(async () => {
    await blocks?.stop();
    await sequential?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('should write the same rows, rejects and manifest at CSV_BLOCK_BYTES=65536 as at 0, plain and gzip', async () => {
    const body = object();
    for (const [key, bytes] of [
      ['blocks/data.csv', body],
      ['blocks/data.csv.gz', gzipSync(body)],
    ] as const) {
      const split = await run(blocks, key, bytes);
      const whole = await run(sequential, key, bytes);
      expect(whole.manifest['blocks'], key).to.equal(1);
      expect(split.manifest['blocks'], key).to.be.greaterThan(5);
      expect({ ...split, manifest: { ...split.manifest, blocks: 1 } }, key).to.deep.equal(whole);
      expect(split.status, key).to.equal('succeeded');
      expect(split.rejects.split('\n').length, key).to.be.greaterThan(100);
    }
  });

  it('should read a header that comes after more than the first block of skipped lines, split or not', async () => {
    const preamble = Array.from({ length: PREAMBLE_LINES }, (_, i) => `# report line ${i}, not CSV at all\n`);
    const body = Buffer.concat([Buffer.from(preamble.join('')), object()]);
    const split = await run(blocks, 'preamble/data.csv', body);
    const whole = await run(sequential, 'preamble/data.csv', body);
    expect(split.status).to.equal('succeeded');
    expect(split.manifest['blocks']).to.be.greaterThan(5);
    expect({ ...split, manifest: { ...split.manifest, blocks: 1 } }).to.deep.equal(whole);
    expect(JSON.parse(whole.rows.slice(0, whole.rows.indexOf('\n')))).to.deep.equal({
      id: '0',
      name: 'multi\n1;looks;like a record\r\nend',
      note: 'x',
    });
  });

  it('should fail a job whose quote never closes with csv_invalid and the line as a field, split or not', async () => {
    const body = Buffer.concat([object(), Buffer.from('12000;"never closed\nmore\n')]);
    const line = body.subarray(0, body.lastIndexOf('12000;')).toString().split('\n').length;
    for (const svc of [blocks, sequential]) {
      const key = `blocks/unterminated-${svc === blocks ? 'split' : 'whole'}.csv`;
      await svc.service.s3.send(new PutObjectCommand({ Bucket: 'ingest', Key: key, Body: body }));
      const id = (await postTrigger(svc, { key })).body.jobs[0].id as string;
      const job = await waitForJob(svc, id, undefined, 60_000);
      expect(job['error'], key).to.deep.equal({
        code: 'csv_invalid',
        message: `Unterminated quoted field: the record starting at line ${line} opens a quote that is never closed.`,
        retryable: false,
        line,
      });
    }
  });
});
