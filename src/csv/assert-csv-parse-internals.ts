import { Parser, type Options } from 'csv-parse';
import type { TransformCallback } from 'node:stream';
import { AppError } from '../errors.ts';

/** csv-parse's stream parser, or (in its spec) one that behaves as a later release might. */
export type CsvParserClass = new (options: Options) => Parser;

/** What the probe input must give: each record as csv-parse hands it over, and `info.bytes` at that moment. */
const PROBE_INPUT = 'a,"x\r\ny"\r\n\nb\n';
const EXPECTED = JSON.stringify([
  { record: ['a', 'x\r\ny'], bytes: 10 },
  { record: [''], bytes: 11 },
  { record: ['b'], bytes: 13 },
]);
/** An empty input: csv-parse ends the stream with `push(null)` from inside `_flush`. */
const EXPECTED_EMPTY = JSON.stringify([{ record: null, bytes: 0 }]);

/**
 * `createNdjsonParser` subclasses csv-parse's `Parser` and overrides `push`, which
 * is not csv-parse's public API. It relies on: `_transform` and `_flush` handing
 * each record to `this.push` (looked up on the instance) as an array of strings,
 * at once, with `info.bytes` just past the record; and on the end of input being a
 * `this.push(null)` from inside `_flush`, before its callback (the override drops
 * it, so the stream ends only after the header check). A release that changed any
 * of this would lose records or end early without an error; this probes it on a
 * small input and throws, naming what changed, so that nothing parses instead.
 */
export function assertCsvParseInternals(ParserClass: CsvParserClass = Parser): void {
  const seen = JSON.stringify(probe(ParserClass, PROBE_INPUT));
  const seenEmpty = JSON.stringify(probe(ParserClass, ''));
  if (seen === EXPECTED && seenEmpty === EXPECTED_EMPTY) return;
  throw new AppError(
    'internal',
    'The installed csv-parse does not behave as the override of Parser.push in src/csv/create-ndjson-parser.ts ' +
      `relies on (it was written for csv-parse 7.0.3): expected ${EXPECTED} and, on an empty input, ` +
      `${EXPECTED_EMPTY}; got ${seen} and ${seenEmpty}.`,
  );
}

interface Pushed {
  readonly record: unknown;
  readonly bytes: number | undefined;
  /** Pushed after the callback of the `_transform` or `_flush` call it came from: outside the override's window. */
  readonly late?: true;
}

/** Feeds `input` to a parser the way the stream machinery would, and records what reaches `push`, and when. */
function probe(ParserClass: CsvParserClass, input: string): Pushed[] {
  const pushed: Pushed[] = [];
  // Whether the current `_transform` or `_flush` call has called back.
  let settled = false;
  class Probe extends ParserClass {
    override push(chunk: unknown): boolean {
      const bytes = (this.info as { bytes?: number } | undefined)?.bytes;
      pushed.push(settled ? { record: chunk, bytes, late: true } : { record: chunk, bytes });
      return true;
    }
  }
  const parser = new Probe({ record_delimiter: ['\r\n', '\n'], relax_column_count: true, skip_empty_lines: false });
  const done: TransformCallback = (error) => {
    settled = true;
    if (error) pushed.push({ record: `error: ${error.message}`, bytes: undefined });
  };
  if (input !== '') parser._transform(Buffer.from(input), 'utf8', done);
  settled = false;
  parser._flush(done);
  if (!settled) pushed.push({ record: '_flush did not call back at once', bytes: undefined });
  return pushed;
}
