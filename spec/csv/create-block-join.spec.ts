import { expect } from 'chai';
import { createBlockJoin } from '../../src/csv/create-block-join.ts';
import type { RowStats } from '../../src/csv/create-ndjson-parser.ts';
import type { BlockResult } from '../../src/csv/parse-block.ts';
import { AppError } from '../../src/errors.ts';

const columns = [{ name: 'a', type: 'integer' as const }];

function result(overrides: Partial<BlockResult>): BlockResult {
  return {
    ndjson: [],
    rows: 0,
    dropped: 0,
    rejects: [],
    lines: 0,
    records: 0,
    bytes: 0,
    names: ['a'],
    columns,
    ...overrides,
  };
}

function join(maxRejected: number | null) {
  const stats: RowStats = { rows: 0, rejected: 0, dropped: 0, rowsBytes: 0, rejectsBytes: 0, columns: [] };
  return { stats, join: createBlockJoin({ pipeline: { name: 'p', maxRejected }, maxRecordBytes: 100, stats }) };
}

describe('createBlockJoin', () => {
  it('should number rejects from the lines and records of the blocks before', () => {
    const { join: joined, stats } = join(null);
    joined.add(result({ ndjson: [Buffer.from('{"a":1}\n')], rows: 1, lines: 3, records: 1 }));
    const second = joined.add(
      result({ rejects: [{ line: 2, record: 1, reason: 'bad', raw: 'x' }], lines: 4, records: 2 }),
    );
    expect(second.rejects).to.equal('{"line":5,"record":2,"reason":"bad","raw":"x"}\n');
    expect(stats).to.deep.include({ rows: 1, rejected: 1, rowsBytes: 8, rejectsBytes: second.rejects.length });
    expect({ line: joined.line, records: joined.records }).to.deep.equal({ line: 8, records: 3 });
  });

  it('should stop at the reject that passes maxRejected, counted over the blocks', () => {
    const { join: joined } = join(1);
    joined.add(result({ rejects: [{ line: 1, record: 1, reason: 'first', raw: '' }], lines: 1, records: 1 }));
    expect(() =>
      joined.add(result({ rejects: [{ line: 1, record: 1, reason: 'second', raw: '' }], lines: 1, records: 1 })),
    )
      .to.throw(AppError, 'More than 1 records were rejected (pipeline "p"); the last at line 2: second.')
      .that.includes({ code: 'too_many_rejects', line: 2 });
  });

  it("should name the absolute line of a block's CSV error, after its rejects", () => {
    const { join: joined, stats } = join(null);
    joined.add(result({ lines: 10, records: 9 }));
    const failing = result({
      rejects: [{ line: 1, record: 1, reason: 'bad', raw: '' }],
      error: { line: 3, failure: { kind: 'quote_not_closed', detail: '' } },
    });
    expect(() => joined.add(failing))
      .to.throw(
        AppError,
        'Unterminated quoted field: the record starting at line 13 opens a quote that is never closed.',
      )
      .that.includes({ code: 'csv_invalid', line: 13 });
    expect(stats.rejected).to.equal(1);
  });
});
