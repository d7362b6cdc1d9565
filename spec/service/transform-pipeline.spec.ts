import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTestService, waitForJob, type TestService } from '../helpers/test-service.ts';

const TRANSFORM = `
export function transform(row, { line, record, key, reject }) {
  if (row.device.startsWith('test-')) return null;
  if (row.temp_f === null) return reject('temp_f: a reading needs a temperature');
  const celsius = Math.round(((row.temp_f - 32) * 5) / 9 * 10) / 10;
  if (row.device === 'pair') return [{ device: 'pair-a', celsius, line }, { device: 'pair-b', celsius, line }];
  return { device: row.device, celsius, line, record, key };
}
`;
const THROWS = `
export function transform(row, { record }) {
  if (record === 3) throw new TypeError('no reading for ' + row.device);
  return row;
}
`;

/** About 500 KB of readings: test devices, missing temperatures, pairs, quoted line breaks, empty lines. */
function readings(): Buffer {
  const lines = ['device,temp_f,note\n'];
  for (let i = 0; i < 10_000; i += 1) {
    const device = i % 13 === 0 ? `test-${i}` : i % 17 === 0 ? 'pair' : `dev-${i}`;
    const temp = i % 11 === 0 ? '' : String(32 + (i % 180));
    const note = i % 19 === 0 ? `"two\nlines, ${i}"` : `note ${'n'.repeat(i % 30)}`;
    lines.push(`${device},${temp},${note}\n`);
    if (i % 400 === 0) lines.push('\n');
    if (i % 701 === 0) lines.push(`dev-${i},warm,x\n`);
  }
  return Buffer.from(lines.join(''));
}

async function read(svc: TestService, key: string): Promise<string> {
  const response = await svc.service.s3.send(new GetObjectCommand({ Bucket: 'ingest', Key: key }));
  return response.Body!.transformToString();
}

async function trigger(svc: TestService, key: string, body: Buffer): Promise<Record<string, unknown>> {
  await svc.service.s3.send(new PutObjectCommand({ Bucket: 'ingest', Key: key, Body: body }));
  const response = await svc.fetch('/v1/trigger', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key }),
  });
  const id = ((await response.json()) as { jobs: { id: string }[] }).jobs[0]!.id;
  return waitForJob(svc, id, undefined, 60_000);
}

async function outputs(svc: TestService, key: string) {
  const base = `processed/ingest/${key}/`;
  const {
    timings: _timings,
    jobId: _jobId,
    ...manifest
  } = JSON.parse(await read(svc, `${base}manifest.json`)) as Record<string, unknown>;
  return { rows: await read(svc, `${base}rows.ndjson`), rejects: await read(svc, `${base}rejects.ndjson`), manifest };
}

describe('a pipeline with a transform (whole service)', function () {
  this.timeout(120_000);
  let dir: string;
  let blocks: TestService;
  let sequential: TestService;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'transform-pipeline-'));
    // Transform modules are ES modules, as in a project whose package.json says so.
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    await writeFile(path.join(dir, 'readings.js'), TRANSFORM);
    await writeFile(path.join(dir, 'throws.ts'), THROWS);
    await writeFile(
      path.join(dir, 'pipelines.json'),
      JSON.stringify({
        pipelines: [
          {
            name: 'readings',
            match: 'readings/**',
            columns: { device: { type: 'string', required: true }, temp_f: 'number' },
            transform: './readings.js',
          },
          { name: 'throws', match: 'throws/**', transform: './throws.ts' },
        ],
      }),
    );
    const env = {
      LOG_LEVEL: 'warn',
      JOB_CONCURRENCY: '1',
      WORKER_THREADS: '2',
      PIPELINES_FILE: path.join(dir, 'pipelines.json'),
      RETRY_BASE_MS: '10',
    };
    blocks = await startTestService({ env: { ...env, CSV_BLOCK_BYTES: '65536' }, embeddedS3Events: false });
    sequential = await startTestService({ env: { ...env, CSV_BLOCK_BYTES: '0' }, embeddedS3Events: false });
  });
  after(async () => {
    await blocks?.stop();
    await sequential?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('should reshape, drop, split and reject rows, the same at CSV_BLOCK_BYTES=65536 as at 0', async () => {
    const key = 'readings/2024-02-12.csv';
    const body = readings();
    const jobs = [await trigger(blocks, key, body), await trigger(sequential, key, body)];
    for (const job of jobs) expect(job, JSON.stringify(job['error'])).to.include({ status: 'succeeded', attempts: 1 });
    const split = await outputs(blocks, key);
    const whole = await outputs(sequential, key);
    expect(split.manifest['blocks']).to.be.greaterThan(4);
    expect(whole.manifest['blocks']).to.equal(1);
    expect({ ...split, manifest: { ...split.manifest, blocks: 1 } }).to.deep.equal(whole);

    const rows = whole.rows
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    // Lines 2-3: test-0 (dropped, its note holds a line break), 4: empty, 5: dev-0 with `warm` (rejected).
    expect(rows[0]).to.deep.equal({ device: 'dev-1', celsius: 0.6, line: 6, record: 3, key });
    const lines = body.toString('utf8').split('\n');
    for (const row of rows.filter((_row, index) => index % 97 === 0)) {
      expect(lines[(row['line'] as number) - 1]).to.match(
        new RegExp(`^${String(row['device']).replace(/-[ab]$/, '')},`),
      );
    }
    expect(rows.filter((row) => String(row['device']).startsWith('test-'))).to.have.length(0);
    expect(rows.filter((row) => row['device'] === 'pair-a')).to.have.length.greaterThan(100);
    expect(whole.manifest).to.include({ rows: rows.length, dropped: 770 });

    const rejects = whole.rejects
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(whole.manifest['rejected']).to.equal(rejects.length);
    const reasons = new Set(rejects.map((reject) => String(reject['reason']).split(':')[0]));
    expect([...reasons].sort()).to.deep.equal(['column "temp_f"', 'temp_f']);
    for (const reject of rejects)
      expect(lines[(reject['line'] as number) - 1]).to.equal(String(reject['raw']).split('\n')[0]);
  });

  it('should fail the job with transform_failed, not retried, when the transform throws', async () => {
    for (const svc of [blocks, sequential]) {
      const job = await trigger(svc, 'throws/a.csv', Buffer.from('device\nd1\nd2\n\nd3\nd4\n'));
      expect(job).to.include({ status: 'failed', attempts: 1 });
      const error = job['error'] as Record<string, unknown>;
      expect(error).to.include({ code: 'transform_failed', retryable: false });
      expect(error['message']).to.equal(
        `The transform ${path.join(dir, 'throws.ts')} of pipeline "throws" failed at line 5: TypeError: no reading for d3`,
      );
    }
  });
});
