import { expect } from 'chai';
import { encodeCsvRecord } from '../../src/csv/encode-csv-record.ts';
import { cutUtf8, formatReject } from '../../src/csv/format-reject.ts';

describe('formatReject', () => {
  it('should write one JSON line with line, record, reason and raw', () => {
    expect(formatReject({ line: 4, record: 3, reason: 'why', raw: 'a,"b\nc"' })).to.equal(
      '{"line":4,"record":3,"reason":"why","raw":"a,\\"b\\nc\\""}\n',
    );
  });

  it('should cut raw at 1 KiB of UTF-8', () => {
    const line = JSON.parse(formatReject({ line: 1, record: 1, reason: 'r', raw: 'é'.repeat(2000) })) as {
      raw: string;
    };
    expect(Buffer.byteLength(line.raw)).to.equal(1024);
  });
});

describe('cutUtf8', () => {
  it('should never cut inside a character', () => {
    expect(cutUtf8('aé', 2)).to.equal('a');
    expect(cutUtf8('a€b', 4)).to.equal('a€');
    expect(cutUtf8('a€b', 3)).to.equal('a');
    expect(cutUtf8('short', 1024)).to.equal('short');
  });
});

describe('encodeCsvRecord', () => {
  it('should quote fields holding the delimiter, a quote or a line break, doubling quotes', () => {
    expect(encodeCsvRecord(['a', 'b;c', 'say "hi"', 'x\ny', ''], ';', '"')).to.equal('a;"b;c";"say ""hi""";"x\ny";');
    expect(encodeCsvRecord(['a', 'b,c'], ',', null)).to.equal('a,b,c');
  });
});
