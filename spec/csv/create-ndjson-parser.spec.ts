import { expect } from 'chai';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createNdjsonParser, type RowStats } from '../../src/csv/create-ndjson-parser.ts';
import { createRejectWriter } from '../../src/csv/create-reject-writer.ts';
import { csvParseOptions } from '../../src/csv/csv-parse-options.ts';
import { parsePipelines } from '../../src/csv/parse-pipelines.ts';

interface Parsed {
  rows: Record<string, unknown>[];
  rejects: { line: number; record: number; reason: string; raw: string }[];
  stats: RowStats;
}

/** Parses `input` fed in chunks of `chunkSize` bytes, as a job does (rows out, rejects to their own stream). */
async function parse(
  input: Buffer | string,
  options: {
    chunkSize?: number;
    csv?: Record<string, unknown>;
    columns?: Record<string, unknown>;
    slowRejects?: boolean;
  } = {},
): Promise<Parsed> {
  const [definition] = parsePipelines({
    pipelines: [{ name: 't', csv: { delimiter: ',', ...options.csv }, columns: options.columns ?? {} }],
  });
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input);
  const size = options.chunkSize ?? bytes.length;
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  const rejectText: string[] = [];
  const rejects = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _encoding, callback) {
      rejectText.push(chunk.toString());
      // A slow rejects upload: the parser must wait for it, not buffer without bound.
      if (options.slowRejects) setTimeout(callback, 2);
      else callback();
    },
  });
  const stats: RowStats = { rows: 0, rejected: 0, dropped: 0, rowsBytes: 0, rejectsBytes: 0, columns: [] };
  const parser = createNdjsonParser({
    pipeline: definition!,
    csv: csvParseOptions(definition!.csv, ',', 1 << 20),
    delimiter: ',',
    maxRecordBytes: 1 << 20,
    rejects: createRejectWriter(rejects, definition!, stats),
    stats,
  });
  let text = '';
  await pipeline(
    Readable.from(chunks),
    parser,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        text += chunk.toString();
        callback();
      },
    }),
  );
  const lines = (joined: string) =>
    joined
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as never);
  return { rows: lines(text), rejects: lines(rejectText.join('')), stats };
}

describe('createNdjsonParser', () => {
  it('should number records and physical lines across quoted line breaks, CRLF and empty lines', async () => {
    const csv = 'a,b\r\n1,"x\r\ny"\r\n\r\n2,z,extra\n3,"p\nq\nr"\n4,w';
    for (const chunkSize of [1, 7, 1000]) {
      const { rows, rejects, stats } = await parse(csv, { chunkSize });
      expect(rows, `chunks of ${chunkSize}`).to.deep.equal([
        { a: '1', b: 'x\r\ny' },
        { a: '3', b: 'p\nq\nr' },
        { a: '4', b: 'w' },
      ]);
      expect(
        rejects.map(({ line, record }) => ({ line, record })),
        `chunks of ${chunkSize}`,
      ).to.deep.equal([{ line: 5, record: 2 }]);
      expect(stats).to.include({ rows: 3, rejected: 1 });
    }
  });

  it('should end the rows stream after the last record, with or without a final line break', async () => {
    expect((await parse('a\n1\n2')).rows).to.deep.equal([{ a: '1' }, { a: '2' }]);
    expect((await parse('a\n1\n2\n')).rows).to.deep.equal([{ a: '1' }, { a: '2' }]);
    expect((await parse('a\n')).rows).to.deep.equal([]);
  });

  it('should wait for a slow rejects stream and lose no reject', async () => {
    const csv = `a,b\n${Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? `${i},ok` : `${i},bad,extra`)).join('\n')}\n`;
    const { rows, rejects } = await parse(csv, { chunkSize: 64, slowRejects: true });
    expect(rows).to.have.length(150);
    expect(rejects.map((reject) => reject.record)).to.deep.equal(Array.from({ length: 150 }, (_, i) => 2 * i + 2));
  });

  it('should reject a record that is not valid UTF-8, naming the byte offset, and keep the others', async () => {
    const head = Buffer.from('name,city\nAda,London\nGr');
    const input = Buffer.concat([head, Buffer.from([0xe9]), Buffer.from('ce,Paris\nLinus,Helsinki \uFFFD\n')]);
    for (const chunkSize of [1, 5, input.length]) {
      const { rows, rejects } = await parse(input, { chunkSize });
      expect(rows, `chunks of ${chunkSize}`).to.deep.equal([
        { name: 'Ada', city: 'London' },
        { name: 'Linus', city: 'Helsinki \uFFFD' },
      ]);
      expect(rejects, `chunks of ${chunkSize}`).to.have.length(1);
      expect(rejects[0]).to.include({ line: 3, record: 2 });
      expect(rejects[0]!.reason).to.equal(
        `the record is not valid UTF-8: byte offset ${head.length} of the object holds an invalid sequence`,
      );
    }
  });

  it('should count a BOM and skipped lines in the byte offset', async () => {
    const input = Buffer.concat([
      Buffer.from('\uFEFFexport of today\nname\nok\nb'),
      Buffer.from([0xff]),
      Buffer.from('d\n'),
    ]);
    const { rows, rejects } = await parse(input, { csv: { skipLines: 1 } });
    expect(rows).to.deep.equal([{ name: 'ok' }]);
    expect(rejects[0]!.reason).to.include(`byte offset ${input.indexOf(0xff)} `);
  });

  it('should keep U+FFFD in place of invalid bytes when the pipeline says invalidUtf8: replace', async () => {
    const input = Buffer.concat([Buffer.from('name\nGr'), Buffer.from([0xe9]), Buffer.from('ce\n')]);
    const { rows, rejects } = await parse(input, { csv: { invalidUtf8: 'replace' } });
    expect(rows).to.deep.equal([{ name: 'Gr\uFFFDce' }]);
    expect(rejects).to.deep.equal([]);
  });
});
