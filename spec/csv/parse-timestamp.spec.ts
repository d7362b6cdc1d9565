import { expect } from 'chai';
import { parseTimestamp } from '../../src/csv/parse-timestamp.ts';

describe('parseTimestamp', () => {
  it('should turn ISO-8601 date-times into ISO-8601 UTC', () => {
    expect(parseTimestamp('2024-02-12T10:00:00Z')).to.equal('2024-02-12T10:00:00.000Z');
    expect(parseTimestamp('2024-02-12T10:00:00.123456Z')).to.equal('2024-02-12T10:00:00.123Z');
    expect(parseTimestamp('2024-02-12T10:00:00.5Z')).to.equal('2024-02-12T10:00:00.500Z');
    expect(parseTimestamp('2024-02-12 10:00')).to.equal('2024-02-12T10:00:00.000Z');
  });

  it('should take the canonical UTC form on its fast path with the same checks', () => {
    expect(parseTimestamp('2024-02-12T10:00:00.123Z')).to.equal('2024-02-12T10:00:00.123Z');
    expect(parseTimestamp('2024-02-29T23:59:59Z')).to.equal('2024-02-29T23:59:59.000Z');
    for (const text of [
      '2023-02-29T10:00:00.000Z',
      '2024-04-31T10:00:00Z',
      '2024-00-10T10:00:00Z',
      '2024-01-00T10:00:00Z',
      '2024-01-10T24:00:01Z',
      '2024-01-10T10:60:00Z',
      '2024-01-10T10:00:60Z',
      '2024-01-10T10:00:0aZ',
      '2024-01-10T10:00:00.0a0Z',
      '2024-01-10X10:00:00Z',
      '+024-01-10T10:00:00Z',
    ]) {
      expect(parseTimestamp(text), text).to.equal(undefined);
    }
  });

  it('should apply offsets', () => {
    expect(parseTimestamp('2024-02-12T10:00:00+01:00')).to.equal('2024-02-12T09:00:00.000Z');
    expect(parseTimestamp('2024-02-12T01:30:00-0230')).to.equal('2024-02-12T04:00:00.000Z');
    expect(parseTimestamp('2024-01-01T00:30:00+01')).to.equal('2023-12-31T23:30:00.000Z');
  });

  it('should read a date alone, or a time without offset, as UTC', () => {
    expect(parseTimestamp('2024-02-29')).to.equal('2024-02-29T00:00:00.000Z');
    expect(parseTimestamp('2024-02-12T10:00:00')).to.equal('2024-02-12T10:00:00.000Z');
    expect(parseTimestamp('2024-02-12T24:00:00Z')).to.equal('2024-02-13T00:00:00.000Z');
  });

  it('should refuse what is not an ISO-8601 instant', () => {
    for (const text of [
      '',
      'yesterday',
      '12/02/2024',
      '2024-02-30',
      '2023-02-29',
      '2024-13-01',
      '2024-02-12T25:00:00Z',
      '2024-02-12T10:60:00Z',
      '2024-02-12T10:00:00+25:00',
      '2024-02-12T',
      '1707732000',
      '2024-2-12',
    ]) {
      expect(parseTimestamp(text), text).to.equal(undefined);
    }
  });
});
