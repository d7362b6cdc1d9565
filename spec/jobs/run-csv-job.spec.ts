import { expect } from 'chai';
import { gzipSync } from 'node:zlib';
import { runCsvJob } from '../../src/jobs/run-csv-job.ts';
import { depsFor, jobFor, putObject, readOutputs, type JobOutputs } from '../helpers/csv-job-fixture.ts';
import { startTestS3, type TestS3 } from '../helpers/test-s3.ts';

describe('runCsvJob (CSV handling, default pipeline)', () => {
  let s3: TestS3;
  let counter = 0;
  before(async () => {
    s3 = await startTestS3();
  });
  after(async () => {
    await s3.close();
  });

  /** Puts `body` under a fresh key, runs the job on it, returns what it wrote. */
  async function ingest(
    body: string | Buffer,
    options: { suffix?: string; pipelines?: unknown[]; pipeline?: string; contentEncoding?: string } = {},
  ): Promise<JobOutputs> {
    counter += 1;
    const key = `cases/${counter}.csv${options.suffix ?? ''}`;
    await putObject(s3.client, key, body, options.contentEncoding ? { ContentEncoding: options.contentEncoding } : {});
    await runCsvJob(jobFor(key, { pipeline: options.pipeline ?? 'default' }), depsFor(s3.client, options.pipelines), {
      signal: new AbortController().signal,
    });
    return readOutputs(s3.client, key);
  }

  it('should drop a UTF-8 BOM', async () => {
    const { rows, manifest } = await ingest('\ufeffid,name\n1,Zoë\n');
    expect(rows).to.deep.equal([{ id: '1', name: 'Zoë' }]);
    expect(manifest?.['columns']).to.deep.equal([
      { name: 'id', type: 'string' },
      { name: 'name', type: 'string' },
    ]);
  });

  it('should read CRLF, LF and both mixed', async () => {
    const expected = [
      { a: '1', b: '2' },
      { a: '3', b: '4' },
    ];
    expect((await ingest('a,b\r\n1,2\r\n3,4\r\n')).rows).to.deep.equal(expected);
    expect((await ingest('a,b\n1,2\n3,4\n')).rows).to.deep.equal(expected);
    expect((await ingest('a,b\r\n1,2\n3,4\r\n')).rows).to.deep.equal(expected);
  });

  it('should read quoted fields with delimiters, doubled quotes and line breaks', async () => {
    const { rows, rejects } = await ingest(
      'id,text\n1,"a,b"\n2,"say ""hi"""\n3,"line 1\nline 2"\n4,"crlf\r\ninside"\r\n5,12" pipe\n',
    );
    expect(rows).to.deep.equal([
      { id: '1', text: 'a,b' },
      { id: '2', text: 'say "hi"' },
      { id: '3', text: 'line 1\nline 2' },
      { id: '4', text: 'crlf\r\ninside' },
      { id: '5', text: '12" pipe' },
    ]);
    expect(rejects).to.deep.equal([]);
  });

  it('should read a last record without a final newline', async () => {
    expect((await ingest('a,b\n1,2\n3,4')).rows).to.deep.equal([
      { a: '1', b: '2' },
      { a: '3', b: '4' },
    ]);
    expect((await ingest('a,b\r\n1,"x\ny"')).rows).to.deep.equal([{ a: '1', b: 'x\ny' }]);
  });

  it('should skip empty lines, counting them as lines', async () => {
    const { rows, rejects } = await ingest('\na,b\n\n1,2\n\r\n\n3\n\n');
    expect(rows).to.deep.equal([{ a: '1', b: '2' }]);
    expect(rejects).to.deep.equal([
      { line: 7, record: 2, reason: 'expected 2 fields as in the header, found 1', raw: '3' },
    ]);
  });

  it('should reject records with too few or too many fields, and go on', async () => {
    const { rows, rejects, manifest } = await ingest('a,b,c\n1,2\n1,2,3,4\n5,6,7\n,,\n');
    expect(rows).to.deep.equal([
      { a: '5', b: '6', c: '7' },
      { a: null, b: null, c: null },
    ]);
    expect(rejects).to.deep.equal([
      { line: 2, record: 1, reason: 'expected 3 fields as in the header, found 2', raw: '1,2' },
      { line: 3, record: 2, reason: 'expected 3 fields as in the header, found 4', raw: '1,2,3,4' },
    ]);
    expect(manifest).to.include({ rows: 2, rejected: 2 });
  });

  it('should give the physical line where a record starts, not its record number', async () => {
    const { rows, rejects } = await ingest('a,b\n1,"x\ny\nz"\n2\n3,"p\r\nq"\r\n4,5,6\n7,8\n');
    expect(rows).to.deep.equal([
      { a: '1', b: 'x\ny\nz' },
      { a: '3', b: 'p\r\nq' },
      { a: '7', b: '8' },
    ]);
    expect(rejects).to.deep.equal([
      { line: 5, record: 2, reason: 'expected 2 fields as in the header, found 1', raw: '2' },
      { line: 8, record: 4, reason: 'expected 2 fields as in the header, found 3', raw: '4,5,6' },
    ]);
  });

  it('should write a reject raw text with its quoting, cut at 1 KiB', async () => {
    const long = 'é'.repeat(1000);
    const { rejects } = await ingest(`a,b\n"x,y","q""q",${long}\n`);
    const [reject] = rejects as { raw: string }[];
    expect(reject?.raw.startsWith('"x,y","q""q",éé')).to.equal(true);
    expect(Buffer.byteLength(reject?.raw ?? '')).to.equal(1023); // 13 ASCII bytes, then 2-byte characters: the cut falls before the one that would pass 1024
  });

  it('should detect the delimiter from the header line among , ; tab |', async () => {
    expect((await ingest('name;price\nwidget;1,50\n')).rows).to.deep.equal([{ name: 'widget', price: '1,50' }]);
    expect((await ingest('name\tnote\nwidget\ta;b,c\n')).rows).to.deep.equal([{ name: 'widget', note: 'a;b,c' }]);
    expect((await ingest('\ufeffname|note\r\nwidget|a,b\r\n')).rows).to.deep.equal([{ name: 'widget', note: 'a,b' }]);
    expect((await ingest('"a;b",c\n1,2\n')).rows).to.deep.equal([{ 'a;b': '1', c: '2' }]);
  });

  it('should write empty outputs for a header alone or an empty object', async () => {
    const headerOnly = await ingest('a,b\n');
    expect(headerOnly.texts).to.deep.equal({ rows: '', rejects: '' });
    expect(headerOnly.manifest).to.include({ rows: 0, rejected: 0 });
    const empty = await ingest('');
    expect(empty.texts).to.deep.equal({ rows: '', rejects: '' });
    expect(empty.manifest?.['columns']).to.deep.equal([]);
  });

  it('should gunzip a .gz key and a gzip Content-Encoding while streaming', async () => {
    const csv = 'a;b\n1;2\n3;4\n';
    const expected = [
      { a: '1', b: '2' },
      { a: '3', b: '4' },
    ];
    const byKey = await ingest(gzipSync(csv), { suffix: '.gz' });
    expect(byKey.rows).to.deep.equal(expected);
    expect(byKey.manifest?.['bytesRead']).to.equal(gzipSync(csv).length);
    expect((await ingest(gzipSync(csv), { contentEncoding: 'gzip' })).rows).to.deep.equal(expected);
  });

  it('should skip lines before the header and read headerless CSV with the pipeline columns', async () => {
    const pipelines = [
      { name: 'preamble', csv: { skipLines: 2, delimiter: ';' } },
      { name: 'bare', csv: { header: false }, columns: { id: 'integer', name: 'string' } },
    ];
    const skipped = await ingest('exported by X\nat noon\nid;name\n1;a\n2\n', { pipelines, pipeline: 'preamble' });
    expect(skipped.rows).to.deep.equal([{ id: '1', name: 'a' }]);
    expect(skipped.rejects).to.deep.equal([
      { line: 5, record: 2, reason: 'expected 2 fields as in the header, found 1', raw: '2' },
    ]);
    const bare = await ingest('1,a\n2,b\nx,c\n', { pipelines, pipeline: 'bare' });
    expect(bare.rows).to.deep.equal([
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ]);
    expect(bare.rejects).to.deep.equal([
      { line: 3, record: 3, reason: 'column "id": expected an integer, found "x"', raw: 'x,c' },
    ]);
  });
});
