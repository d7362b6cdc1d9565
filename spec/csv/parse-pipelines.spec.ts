import { expect } from 'chai';
import { parsePipelines } from '../../src/csv/parse-pipelines.ts';
import { AppError } from '../../src/errors.ts';

function problemOf(json: unknown): string {
  try {
    parsePipelines(json);
  } catch (error) {
    expect(error).to.be.instanceOf(AppError).with.property('code', 'config_invalid');
    return (error as Error).message;
  }
  throw new Error('expected parsePipelines to throw');
}

describe('parsePipelines', () => {
  it("should accept the contract's example and fill in defaults", () => {
    const [iot] = parsePipelines({
      pipelines: [
        {
          name: 'iot',
          match: 'iot/**/*.csv*',
          csv: { delimiter: ',', quote: '"', header: true, encoding: 'utf8', skipLines: 0, invalidUtf8: 'reject' },
          columns: {
            timestamp: { type: 'timestamp', required: true },
            device_id: { type: 'string', required: true },
            value: { type: 'number' },
          },
          maxRejected: 1000,
        },
      ],
    });
    expect(iot).to.deep.equal({
      name: 'iot',
      match: 'iot/**/*.csv*',
      csv: { delimiter: ',', quote: '"', header: true, encoding: 'utf8', skipLines: 0, invalidUtf8: 'reject' },
      columns: {
        timestamp: { type: 'timestamp', required: true },
        device_id: { type: 'string', required: true },
        value: { type: 'number', required: false },
      },
      maxRejected: 1000,
    });
  });

  it('should default the dialect, the columns and the reject limit', () => {
    const [minimal] = parsePipelines({ pipelines: [{ name: 'm', columns: { n: 'integer' } }] });
    expect(minimal).to.deep.equal({
      name: 'm',
      csv: { quote: '"', header: true, encoding: 'utf8', skipLines: 0, invalidUtf8: 'reject' },
      columns: { n: { type: 'integer', required: false } },
      maxRejected: null,
    });
  });

  it('should name the pipeline and the field of each problem', () => {
    const message = problemOf({
      pipelines: [
        { name: 'ok' },
        { name: 'iot', csv: { delimiter: ',,' }, columns: { value: { type: 'float' } } },
        { name: 'typo', maxRejects: 3 },
      ],
    });
    expect(message).to.match(/^Invalid PIPELINES_FILE — /);
    expect(message).to.include('pipeline "iot" (pipelines[1]) csv.delimiter: expected a single character');
    expect(message).to.include(
      'pipeline "iot" (pipelines[1]) columns.value.type: expected one of string, number, integer, boolean, timestamp',
    );
    expect(message).to.include('pipeline "typo" (pipelines[2])');
    expect(message).to.include('maxRejects');
  });

  it('should refuse duplicate names, a headerless pipeline without columns, a bad file shape', () => {
    expect(problemOf({ pipelines: [{ name: 'a' }, { name: 'a' }] })).to.include(
      'pipeline "a" (pipelines[1]) name: duplicate pipeline name "a"',
    );
    expect(problemOf({ pipelines: [{ name: 'h', csv: { header: false } }] })).to.include(
      'pipeline "h" (pipelines[0]) columns: required when csv.header is false',
    );
    expect(problemOf({ pipelines: [{ name: 'q', csv: { delimiter: ';', quote: ';' } }] })).to.include(
      'csv.quote: must differ from csv.delimiter',
    );
    expect(problemOf({ pipelines: [{ match: 'x/*' }] })).to.include('pipelines[0] name');
    expect(problemOf([])).to.include('(file)');
  });
});
