import { expect } from 'chai';
import { Parser, type Options } from 'csv-parse';
import type { TransformCallback } from 'node:stream';
import { assertCsvParseInternals } from '../../src/csv/assert-csv-parse-internals.ts';

/** The start of the error every changed csv-parse gets. */
const REFUSED =
  /^The installed csv-parse does not behave as the override of Parser\.push in src\/csv\/create-ndjson-parser\.ts relies on \(it was written for csv-parse 7\.0\.3\)/;

describe('assertCsvParseInternals', () => {
  it('should pass the installed csv-parse', () => {
    expect(() => assertCsvParseInternals()).not.to.throw();
  });

  it('should refuse a csv-parse that hands records over as objects', () => {
    class Objects extends Parser {
      constructor(options: Options) {
        super({ ...options, columns: ['p', 'q'] });
      }
    }
    expect(() => assertCsvParseInternals(Objects))
      .to.throw(REFUSED)
      .that.includes({ code: 'internal' })
      .and.satisfies((error: Error) => error.message.includes('got [{"record":{"p":"a","q":"x\\r\\ny"}'));
  });

  it('should refuse a csv-parse whose info.bytes no longer follows the records', () => {
    class Frozen extends Parser {
      constructor(options: Options) {
        super(options);
        // A release that keeps its counters elsewhere: the info object the parser exposes stands still.
        Object.defineProperty(this, 'info', { value: { ...this.info } });
      }
    }
    expect(() => assertCsvParseInternals(Frozen)).to.throw(REFUSED);
  });

  it('should refuse a csv-parse that ends the input after _flush has called back', () => {
    class LateEnd extends Parser {
      override _flush(callback: TransformCallback): void {
        super._flush((error) => {
          callback(error);
          this.push(null);
        });
      }
    }
    expect(() => assertCsvParseInternals(LateEnd))
      .to.throw(REFUSED)
      .with.property('message')
      .that.includes('"late":true');
  });
});
