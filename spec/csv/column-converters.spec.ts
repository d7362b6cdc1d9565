import { expect } from 'chai';
import { COLUMN_CONVERTERS } from '../../src/csv/column-converters.ts';

describe('COLUMN_CONVERTERS', () => {
  const { string, number, integer, boolean, timestamp } = COLUMN_CONVERTERS;

  it('should keep strings as JSON strings', () => {
    expect(string('a "quoted"\nvalue')).to.equal('"a \\"quoted\\"\\nvalue"');
    expect(string('  ')).to.equal('"  "');
  });

  it('should write every string exactly as JSON.stringify does', () => {
    const samples = [
      '',
      'plain',
      'dev-05823',
      'tab\there',
      'back\\slash',
      'quote"d',
      '\u0000\u001f\u007f',
      'line\u2028sep',
      'é ü 中文',
      '😀 pair',
      'lone \ud83d high',
      'lone \ude00 low',
      '\ude00\ud83d reversed',
    ];
    for (const text of samples) expect(string(text), JSON.stringify(text)).to.equal(JSON.stringify(text));
    for (let i = 0; i < 2000; i += 1) {
      const text = String.fromCharCode(
        ...Array.from({ length: 1 + Math.floor(Math.random() * 12) }, () =>
          Math.random() < 0.8 ? 32 + Math.floor(Math.random() * 95) : Math.floor(Math.random() * 0x10000),
        ),
      );
      expect(string(text), JSON.stringify(text)).to.equal(JSON.stringify(text));
    }
  });

  it('should convert decimal numbers and refuse the rest', () => {
    expect(number('12.50')).to.equal('12.5');
    expect(number(' -3 ')).to.equal('-3');
    expect(number('1e3')).to.equal('1000');
    expect(number('.5')).to.equal('0.5');
    for (const text of ['-', 'abc', '0x10', 'Infinity', 'NaN', '1,5', '1e999', '1.2.3', '--1'])
      expect(number(text), text).to.equal(undefined);
  });

  it('should give the same text on the fast path as by conversion', () => {
    const samples = [
      '0',
      '-0',
      '7',
      '-12.5',
      '0.000001',
      '0.0000001',
      '-0.0000005',
      '123456789012345',
      '1234567890123456',
      '12345678901234.5',
      '1234567890123.45',
      '0.1',
      '-0.05',
      '99.99',
      '100',
      '1e21',
      '1.',
      '-1.',
      '00.5',
      '-.5',
      '0.50',
      '10.0',
    ];
    for (const text of samples) expect(number(text), text).to.equal(String(Number(text)));
    for (let i = 0; i < 2000; i += 1) {
      const text = (Math.random() * 10 ** Math.floor(Math.random() * 12) * (Math.random() < 0.5 ? -1 : 1)).toFixed(
        Math.floor(Math.random() * 8),
      );
      expect(number(text), text).to.equal(String(Number(text)));
    }
    expect(integer('-0')).to.equal('0');
    for (const text of [
      '0',
      '-0',
      '00',
      '-007',
      '5',
      '-5',
      '123456789012345',
      '-123456789012345',
      '1234567890123456',
      '9007199254740991',
      '+5',
    ]) {
      expect(integer(text), text).to.equal(String(Number(text)));
    }
    for (let i = 0; i < 2000; i += 1) {
      const text = String(
        Math.floor(Math.random() * 10 ** Math.floor(Math.random() * 16)) * (Math.random() < 0.5 ? -1 : 1),
      );
      expect(integer(text), text).to.equal(String(Number(text)));
    }
  });

  it('should convert safe integers and refuse fractions and overflows', () => {
    expect(integer('007')).to.equal('7');
    expect(integer('-42')).to.equal('-42');
    for (const text of ['1.5', '1e3', '9007199254740993', 'x']) expect(integer(text), text).to.equal(undefined);
  });

  it('should convert true/false in any case and 1/0', () => {
    expect(['true', 'TRUE', 'True', '1'].map(boolean)).to.deep.equal(['true', 'true', 'true', 'true']);
    expect(['false', 'FALSE', 'fAlSe', '0'].map(boolean)).to.deep.equal(['false', 'false', 'false', 'false']);
    for (const text of ['yes', 'no', 't', '2']) expect(boolean(text), text).to.equal(undefined);
  });

  it('should convert ISO-8601 timestamps to UTC', () => {
    expect(timestamp('2024-02-12T11:00:00+01:00')).to.equal('"2024-02-12T10:00:00.000Z"');
    expect(timestamp('12 Feb 2024')).to.equal(undefined);
  });
});
