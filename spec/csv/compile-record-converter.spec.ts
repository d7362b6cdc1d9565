import { expect } from 'chai';
import { compileRecordConverter } from '../../src/csv/compile-record-converter.ts';
import { pipelineSchema } from '../../src/csv/pipeline-schema.ts';
import { AppError } from '../../src/errors.ts';

const iot = pipelineSchema.parse({
  name: 'iot',
  columns: {
    timestamp: { type: 'timestamp', required: true },
    device_id: { type: 'string', required: true },
    value: 'number',
    count: 'integer',
    ok: 'boolean',
  },
});

describe('compileRecordConverter', () => {
  const converter = compileRecordConverter(['timestamp', 'device_id', 'value', 'count', 'ok', 'note'], iot, 1);

  it('should type the columns, untyped header columns as strings', () => {
    expect(converter.columns).to.deep.equal([
      { name: 'timestamp', type: 'timestamp' },
      { name: 'device_id', type: 'string' },
      { name: 'value', type: 'number' },
      { name: 'count', type: 'integer' },
      { name: 'ok', type: 'boolean' },
      { name: 'note', type: 'string' },
    ]);
  });

  it('should write one JSON line with converted values, empty fields as null', () => {
    const line = converter.convert(['2024-02-12T10:00:00Z', 'd1', '1.5', '', 'TRUE', 'x']);
    expect(line).to.equal(
      '{"timestamp":"2024-02-12T10:00:00.000Z","device_id":"d1","value":1.5,"count":null,"ok":true,"note":"x"}\n',
    );
    expect(converter.convert(['2024-02-12', 'd1', '  ', '3', '0', ''])).to.equal(
      '{"timestamp":"2024-02-12T00:00:00.000Z","device_id":"d1","value":null,"count":3,"ok":false,"note":null}\n',
    );
  });

  it('should reject naming the column, the expected type and the value found', () => {
    const base = ['2024-02-12T10:00:00Z', 'd1', '1', '2', 'true', ''];
    const reject = (index: number, value: string) =>
      converter.convert(base.map((field, i) => (i === index ? value : field)));
    expect(reject(0, 'yesterday')).to.deep.equal({
      reason: 'column "timestamp": expected an ISO-8601 timestamp, found "yesterday"',
    });
    expect(reject(2, 'abc')).to.deep.equal({ reason: 'column "value": expected a number, found "abc"' });
    expect(reject(3, '1.5')).to.deep.equal({ reason: 'column "count": expected an integer, found "1.5"' });
    expect(reject(4, 'yes')).to.deep.equal({
      reason: 'column "ok": expected a boolean (true/false or 1/0), found "yes"',
    });
    expect(reject(1, '')).to.deep.equal({
      reason: 'column "device_id": expected a string (required), found an empty value',
    });
    expect(reject(0, ' ')).to.deep.equal({
      reason: 'column "timestamp": expected an ISO-8601 timestamp (required), found an empty value',
    });
  });

  it('should reject records with too few or too many fields', () => {
    expect(converter.convert(['a'])).to.deep.equal({ reason: 'expected 6 fields as in the header, found 1' });
    expect(converter.convert(['1', '2', '3', '4', '5', '6', '7'])).to.deep.equal({
      reason: 'expected 6 fields as in the header, found 7',
    });
  });

  it('should fail with missing_column when the header lacks required columns', () => {
    const attempt = () => compileRecordConverter(['value', 'note'], iot, 3);
    expect(attempt).to.throw(AppError).with.property('code', 'missing_column');
    expect(attempt).to.throw(/on line 3 lacks the required columns "timestamp", "device_id" of pipeline "iot"/);
  });

  it('should fail with csv_invalid when the header repeats a name', () => {
    expect(() => compileRecordConverter(['a', 'b', 'a'], iot, 1)).to.throw(/repeats the column "a"/);
  });

  it('should build the same row as an object for a transform, and reject the same records', () => {
    const records = [
      ['2024-02-12 10:00:00+01:00', 'dev "1"', ' 1e3 ', '-0042', 'TRUE', ''],
      ['2024-02-12T00:00:00Z', 'd', '', '  ', '0', 'x\ny'],
      ['2024-02-12T00:00:00Z', 'd', '1.50', '7', '1', '\u00e9'],
      ['soon', 'd', '1', '1', 'true', ''],
      ['2024-02-12T00:00:00Z', '', '1', '1', 'true', ''],
      ['2024-02-12T00:00:00Z', 'd', '1'],
    ];
    for (const fields of records) {
      const line = converter.convert(fields);
      const row = converter.toRow(fields);
      if (typeof line === 'string') expect(row, fields.join('|')).to.deep.equal(JSON.parse(line));
      else expect(row, fields.join('|')).to.equal(line.reason);
    }
    const proto = compileRecordConverter(['__proto__'], pipelineSchema.parse({ name: 'p' }), 1).toRow(['x']);
    expect(Object.keys(proto)).to.deep.equal(['__proto__']);
    expect(JSON.stringify(proto)).to.equal('{"__proto__":"x"}');
  });
});
