import { expect } from 'chai';
import { NDJSON_PIECE_BYTES, parseBlock, type BlockContext } from '../../src/csv/parse-block.ts';
import { parsePipelines } from '../../src/csv/parse-pipelines.ts';

const [definition] = parsePipelines({
  pipelines: [{ name: 't', csv: { delimiter: ',', skipLines: 1 }, columns: { n: 'integer' } }],
});
const context = (overrides: Partial<BlockContext>): BlockContext => ({
  pipeline: definition!,
  delimiter: ',',
  maxRecordBytes: 1000,
  index: 1,
  offset: 0,
  names: ['n', 's'],
  last: false,
  key: 'k.csv',
  ...overrides,
});

describe('parseBlock', () => {
  it("should count lines and records from the block's start, with no BOM or skipped line there", async () => {
    const result = await parseBlock(Buffer.from('1,"a\nb"\r\n\uFEFFx,y\n\n2,z\n'), context({}));
    expect(Buffer.concat(result.ndjson).toString()).to.equal('{"n":1,"s":"a\\nb"}\n{"n":2,"s":"z"}\n');
    expect(result.rejects).to.deep.equal([
      { line: 3, record: 2, reason: 'column "n": expected an integer, found "\uFEFFx"', raw: '\uFEFFx,y' },
    ]);
    expect(result).to.deep.include({ lines: 5, records: 3, rows: 2, names: ['n', 's'] });
  });

  it('should name an invalid UTF-8 byte by its offset in the object', async () => {
    const bytes = Buffer.concat([Buffer.from('1,a\n2,'), Buffer.from([0xff]), Buffer.from('\n')]);
    const result = await parseBlock(bytes, context({ offset: 1000 }));
    expect(result.rejects.map((reject) => reject.reason)).to.deep.equal([
      'the record is not valid UTF-8: byte offset 1006 of the object holds an invalid sequence',
    ]);
  });

  it("should stop at a CSV error with the line counted from the block's start", async () => {
    const result = await parseBlock(Buffer.from('1,a\n2,"b\n'), context({ last: true }));
    expect(result.error).to.deep.include({ line: 2 });
  });

  it("should leave block 0's columns unknown while it has not passed its skipped lines and header", async () => {
    expect((await parseBlock(Buffer.from('export\n'), context({ index: 0, names: undefined }))).names).to.equal(
      undefined,
    );
    expect(
      (await parseBlock(Buffer.from('export\nn,s\n'), context({ index: 0, names: undefined }))).names,
    ).to.deep.equal(['n', 's']);
  });

  it('should return NDJSON that outgrows a piece in pieces, all but the last full', async () => {
    const lines = Array.from({ length: 30_000 }, (_, i) => `${i},${'y'.repeat(12)}\n`).join('');
    const result = await parseBlock(Buffer.from(lines), context({ last: true }));
    const sizes = result.ndjson.map((piece) => piece.length);
    expect(sizes.length).to.be.greaterThan(2);
    expect(sizes.slice(0, -1).every((size) => size === NDJSON_PIECE_BYTES)).to.equal(true);
    const text = Buffer.concat(result.ndjson).toString();
    expect(text.split('\n')[29_999]).to.equal(`{"n":29999,"s":"${'y'.repeat(12)}"}`);
    expect(result.rows).to.equal(30_000);
  });
});
