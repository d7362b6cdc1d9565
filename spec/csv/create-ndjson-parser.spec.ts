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
    /** Called with each reject write's callback; default: at once. */
    onReject?: (callback: () => void) => void;
    /** Told each time the parser takes a chunk of the input. */
    onChunkRead?: () => void;
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
      if (options.onReject) options.onReject(() => callback());
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
  async function* feed() {
    for (const chunk of chunks) {
      options.onChunkRead?.();
      yield chunk;
    }
  }
  await pipeline(
    Readable.from(feed(), { highWaterMark: 1 }),
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
    // A slow rejects upload: the parser must wait for it, not buffer without bound.
    const { rows, rejects } = await parse(csv, { chunkSize: 64, onReject: (callback) => setTimeout(callback, 2) });
    expect(rows).to.have.length(150);
    expect(rejects.map((reject) => reject.record)).to.deep.equal(Array.from({ length: 150 }, (_, i) => 2 * i + 2));
  });

  it('should take no more input while the rejects stream waits, and go on once it drains', async () => {
    // Rejected by type, not by field count: csv-parse builds an error with a stack for every ragged record.
    const csv = `a\n${Array.from({ length: 2000 }, (_, i) => `${i}${'x'.repeat(24)}`).join('\n')}\n`;
    const held: (() => void)[] = [];
    let holding = true;
    let chunksRead = 0;
    const parsed = parse(csv, {
      chunkSize: 64,
      columns: { a: 'integer' },
      onReject: (callback) => (holding ? held.push(callback) : callback()),
      onChunkRead: () => (chunksRead += 1),
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const whileHeld = chunksRead;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(chunksRead, 'no input taken while the rejects wait').to.equal(whileHeld);
    // What the parser's writable side buffers (16 KiB) and the chunk in hand, of the 800 or so.
    expect(whileHeld, 'chunks taken before the parser waited').to.be.below((16 * 1024) / 64 + 8);
    holding = false;
    for (const callback of held.splice(0)) callback();
    const { rejects } = await parsed;
    expect(chunksRead).to.equal(Math.ceil(csv.length / 64));
    expect(rejects.map((reject) => reject.line)).to.deep.equal(Array.from({ length: 2000 }, (_, i) => i + 2));
  });

  it('should end the input of an empty object, failing it only when the pipeline requires a column', async () => {
    expect(await parse('')).to.deep.include({ rows: [], rejects: [] });
    const failure = await parse('', { columns: { id: { type: 'string', required: true } } }).catch((e: unknown) => e);
    expect(failure).to.include({ code: 'missing_column' });
    expect((failure as Error).message).to.equal(
      'The header (none: the object is empty) lacks the required column "id" of pipeline "t".',
    );
  });

  it('should fail a quote that never closes with csv_invalid at the physical line where its record starts', async () => {
    for (const chunkSize of [1, 7, 1000]) {
      const failure = await parse('a,b\r\n1,"x\r\ny"\r\n2,"open\nmore\n', { chunkSize }).catch((e: unknown) => e);
      expect(failure, `chunks of ${chunkSize}`).to.include({ code: 'csv_invalid', line: 4 });
      expect((failure as Error).message).to.equal(
        'Unterminated quoted field: the record starting at line 4 opens a quote that is never closed.',
      );
    }
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
