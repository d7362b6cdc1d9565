import { expect } from 'chai';
import { createRowTransformer } from '../../src/csv/create-row-transformer.ts';
import type { Transform } from '../../src/csv/transform.ts';
import { AppError } from '../../src/errors.ts';

const transformerOf = (transform: Transform) =>
  createRowTransformer({
    loaded: { transform, module: '/p/t.ts' },
    pipeline: 'p',
    key: 'in/a.csv',
    lineOffset: 10,
    recordOffset: 4,
  });

function failureOf(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('createRowTransformer', () => {
  it('should give the transform the row, the absolute line and record, and the key', () => {
    const seen: unknown[] = [];
    const run = transformerOf((row, { line, record, key }) => {
      seen.push({ row, line, record, key });
      return row;
    });
    expect(run({ a: 1 }, 2, 1)).to.deep.equal({ ndjson: '{"a":1}\n', rows: 1 });
    expect(seen).to.deep.equal([{ row: { a: 1 }, line: 12, record: 5, key: 'in/a.csv' }]);
  });

  it('should write an array as several rows, and drop the record on null or []', () => {
    const run = transformerOf((row) => (row['n'] === 0 ? null : row['n'] === 1 ? [] : [row, { copy: true }]));
    expect(run({ n: 0 }, 1, 1)).to.deep.equal({ ndjson: '', rows: 0 });
    expect(run({ n: 1 }, 1, 1)).to.deep.equal({ ndjson: '', rows: 0 });
    expect(run({ n: 2 }, 1, 1)).to.deep.equal({ ndjson: '{"n":2}\n{"copy":true}\n', rows: 2 });
  });

  it("should turn context.reject's marker into a rejection, and keep a row that only looks like one", () => {
    expect(transformerOf((_row, context) => context.reject('too cold'))({}, 1, 1)).to.deep.equal({
      reason: 'too cold',
    });
    expect(transformerOf(() => ({ reason: 'a column' }))({}, 1, 1)).to.deep.equal({
      ndjson: '{"reason":"a column"}\n',
      rows: 1,
    });
  });

  it('should fail with transform_failed naming the module, the line and the error', () => {
    const cases: [Transform, string][] = [
      [
        () => {
          throw new RangeError('bad reading');
        },
        'RangeError: bad reading',
      ],
      [
        () => undefined as never,
        'it returned undefined; expected a row object, an array of rows, null or context.reject(reason)',
      ],
      [() => [[1]] as never, 'it returned a nested array'],
      [() => Promise.resolve({}) as never, 'it returned a promise; a transform must be synchronous'],
      [() => ({ big: 1n }), 'its row cannot be written as JSON: TypeError: Do not know how to serialize a BigInt'],
    ];
    for (const [transform, detail] of cases) {
      const error = failureOf(() => transformerOf(transform)({}, 3, 1));
      expect(error.code, detail).to.equal('transform_failed');
      expect(error.retryable, detail).to.equal(false);
      expect(error.message, detail).to.include(`The transform /p/t.ts of pipeline "p" failed at line 13: ${detail}`);
    }
  });
});
