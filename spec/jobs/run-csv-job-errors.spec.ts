import { expect } from 'chai';
import { gzipSync } from 'node:zlib';
import { runCsvJob } from '../../src/jobs/run-csv-job.ts';
import { AppError } from '../../src/errors.ts';
import type { JobProgress } from '../../src/jobs/job.ts';
import { depsFor, jobFor, listKeys, putObject, readOutputs, OUTPUT_BASE } from '../helpers/csv-job-fixture.ts';
import { startTestS3, type TestS3 } from '../helpers/test-s3.ts';

const PIPELINES = [
  {
    name: 'iot',
    match: 'iot/**/*.csv*',
    csv: { delimiter: ',' },
    columns: {
      timestamp: { type: 'timestamp', required: true },
      device_id: { type: 'string', required: true },
      value: { type: 'number' },
      count: { type: 'integer' },
      ok: { type: 'boolean' },
    },
    maxRejected: 2,
  },
  {
    name: 'lenient',
    csv: { delimiter: ',' },
    columns: {
      timestamp: { type: 'timestamp', required: true },
      device_id: { type: 'string', required: true },
      value: 'number',
      count: 'integer',
      ok: 'boolean',
    },
  },
];

describe('runCsvJob (typed pipelines and failures)', () => {
  let s3: TestS3;
  let counter = 0;
  before(async () => {
    s3 = await startTestS3();
  });
  after(async () => {
    await s3.close();
  });

  async function run(
    body: string | Buffer,
    options: { pipeline?: string; suffix?: string; maxRecordBytes?: number } = {},
  ) {
    counter += 1;
    const key = `iot/${counter}.csv${options.suffix ?? ''}`;
    await putObject(s3.client, key, body);
    const deps = depsFor(
      s3.client,
      PIPELINES,
      options.maxRecordBytes ? { csvMaxRecordBytes: options.maxRecordBytes } : {},
    );
    const reported: JobProgress[] = [];
    const onProgress = (progress: JobProgress) => reported.push(progress);
    const outcome = await runCsvJob(jobFor(key, { pipeline: options.pipeline ?? 'iot' }), deps, {
      signal: new AbortController().signal,
      onProgress,
      progressIntervalMs: 60_000,
    }).then(
      (result) => ({ result, error: undefined }),
      (error: unknown) => ({ result: undefined, error: error as AppError }),
    );
    return {
      key,
      ...outcome,
      lastProgress: reported.at(-1),
      outputs: await readOutputs(s3.client, key),
      keys: await listKeys(s3.client, `${OUTPUT_BASE}${key}/`),
    };
  }

  it('should convert each type and reject values that do not convert, naming column, type and value', async () => {
    const { outputs, result } = await run(
      [
        'timestamp,device_id,value,count,ok,note',
        '2024-02-12T10:00:00+01:00,d1,1.50,3,TRUE,x',
        '2024-02-12,d2,,,0,',
        'not a time,d3,1,1,1,',
        '2024-02-12T10:00:00Z,,1,1,1,',
        '2024-02-12T10:00:00Z,d5,1,1,maybe,',
        '2024-02-12T10:00:00Z,d6,1e1000,1.5,1,',
      ].join('\n'),
      { pipeline: 'lenient' },
    );
    expect(outputs.rows).to.deep.equal([
      { timestamp: '2024-02-12T09:00:00.000Z', device_id: 'd1', value: 1.5, count: 3, ok: true, note: 'x' },
      { timestamp: '2024-02-12T00:00:00.000Z', device_id: 'd2', value: null, count: null, ok: false, note: null },
    ]);
    expect(outputs.rejects).to.deep.equal([
      {
        line: 4,
        record: 3,
        reason: 'column "timestamp": expected an ISO-8601 timestamp, found "not a time"',
        raw: 'not a time,d3,1,1,1,',
      },
      {
        line: 5,
        record: 4,
        reason: 'column "device_id": expected a string (required), found an empty value',
        raw: '2024-02-12T10:00:00Z,,1,1,1,',
      },
      {
        line: 6,
        record: 5,
        reason: 'column "ok": expected a boolean (true/false or 1/0), found "maybe"',
        raw: '2024-02-12T10:00:00Z,d5,1,1,maybe,',
      },
      {
        line: 7,
        record: 6,
        reason: 'column "value": expected a number, found "1e1000"',
        raw: '2024-02-12T10:00:00Z,d6,1e1000,1.5,1,',
      },
    ]);
    expect(result?.manifest.columns).to.deep.equal([
      { name: 'timestamp', type: 'timestamp' },
      { name: 'device_id', type: 'string' },
      { name: 'value', type: 'number' },
      { name: 'count', type: 'integer' },
      { name: 'ok', type: 'boolean' },
      { name: 'note', type: 'string' },
    ]);
  });

  it('should write the manifest last, with source, counts, columns, bytes, timings and output sizes', async () => {
    const body = 'timestamp,device_id,value\n2024-02-12T10:00:00Z,d1,1\nbad,d2,2\n';
    const { key, result, outputs } = await run(body);
    const manifest = outputs.manifest as Record<string, unknown>;
    expect(manifest).to.deep.equal(JSON.parse(JSON.stringify(result?.manifest)));
    expect(manifest).to.include({
      jobId: jobFor(key).id,
      attempt: 1,
      pipeline: 'iot',
      rows: 1,
      rejected: 1,
      bytesRead: body.length,
    });
    expect(manifest['source']).to.deep.include({ bucket: 'ingest', key, versionId: null, size: body.length });
    expect(manifest['outputs']).to.deep.equal({
      bucket: 'ingest',
      rows: { key: `${OUTPUT_BASE}${key}/rows.ndjson`, size: Buffer.byteLength(outputs.texts.rows ?? '') },
      rejects: { key: `${OUTPUT_BASE}${key}/rejects.ndjson`, size: Buffer.byteLength(outputs.texts.rejects ?? '') },
    });
    expect(result?.output).to.deep.equal({
      bucket: 'ingest',
      rows: `${OUTPUT_BASE}${key}/rows.ndjson`,
      rejects: `${OUTPUT_BASE}${key}/rejects.ndjson`,
      manifest: `${OUTPUT_BASE}${key}/manifest.json`,
    });
    expect(result?.progress).to.deep.equal({ bytesRead: body.length, totalBytes: body.length, rows: 1, rejected: 1 });
  });

  it('should fail at once with missing_column when the header lacks a required column, leaving no output', async () => {
    const { error, keys } = await run('timestamp,value\n2024-02-12T10:00:00Z,1\n');
    expect(error).to.be.instanceOf(AppError).and.include({ code: 'missing_column', retryable: false, line: 1 });
    expect(error?.message).to.include('lacks the required column "device_id" of pipeline "iot"');
    expect(keys).to.deep.equal([]);
  });

  it('should accept maxRejected rejects and fail with too_many_rejects past it', async () => {
    const header = 'timestamp,device_id\n';
    const atLimit = await run(`${header}x,1\nx,2\n2024-02-12,3\n`);
    expect(atLimit.error).to.equal(undefined);
    expect(atLimit.outputs.rejects).to.have.length(2);
    const past = await run(`${header}x,1\nx,2\n2024-02-12,3\nx,4\n`);
    expect(past.error).to.include({ code: 'too_many_rejects', retryable: false, line: 5 });
    expect(past.error?.message).to.include('More than 2 records were rejected').and.include('at line 5');
    expect(past.keys).to.deep.equal([]);
    expect(past.lastProgress, 'the counters reached at the failure').to.include({ rows: 1, rejected: 3 });
  });

  it('should fail with csv_invalid naming the line where an unterminated quote starts', async () => {
    const { error, keys } = await run(
      'timestamp,device_id\n2024-02-12,"a\nb"\n2024-02-12,"never closed\nmore\nlines\n',
    );
    expect(error).to.include({ code: 'csv_invalid', retryable: false, line: 4 });
    expect(error?.message).to.equal(
      'Unterminated quoted field: the record starting at line 4 opens a quote that is never closed.',
    );
    expect(keys).to.deep.equal([]);
  });

  it('should fail with csv_invalid naming the line of a record over CSV_MAX_RECORD_BYTES', async () => {
    const { error, keys } = await run(`timestamp,device_id\n2024-02-12,"a\nb"\n2024-02-12,${'x'.repeat(200)}\n`, {
      maxRecordBytes: 100,
    });
    expect(error).to.include({ code: 'csv_invalid', retryable: false, line: 4 });
    expect(error?.message).to.equal('The record starting at line 4 is longer than CSV_MAX_RECORD_BYTES (100 bytes).');
    expect(keys).to.deep.equal([]);
  });

  it('should fail with csv_invalid on a .gz key that is not gzip', async () => {
    const { error } = await run('timestamp,device_id\n', { suffix: '.gz' });
    expect(error).to.include({ code: 'csv_invalid' });
    expect(error?.message).to.include('not valid gzip');
    const truncated = gzipSync(`timestamp,device_id\n${'2024-02-12,a\n'.repeat(100)}`);
    const cut = await run(truncated.subarray(0, truncated.length - 10), { suffix: '.gz' });
    expect(cut.error).to.include({ code: 'csv_invalid' });
  });

  it('should fail with no_such_key, no_such_bucket or unknown_pipeline, not retryable', async () => {
    const deps = depsFor(s3.client, PIPELINES);
    const signal = new AbortController().signal;
    const missing = await runCsvJob(jobFor('iot/missing.csv', { pipeline: 'iot' }), deps, { signal }).catch(
      (e: unknown) => e,
    );
    expect(missing).to.include({ code: 'no_such_key', retryable: false });
    const noBucket = await runCsvJob(
      jobFor('a.csv', { source: { bucket: 'nope', key: 'a.csv', versionId: null, etag: null, size: null } }),
      deps,
      { signal },
    ).catch((e: unknown) => e);
    expect(noBucket).to.include({ code: 'no_such_bucket', retryable: false });
    const unknown = await runCsvJob(jobFor('a.csv', { pipeline: 'gone' }), deps, { signal }).catch((e: unknown) => e);
    expect(unknown).to.include({ code: 'unknown_pipeline', retryable: false });
  });
});
