import { Transform, type TransformCallback, type Writable } from 'node:stream';
import { AppError } from '../errors.ts';
import { compileRecordConverter, type ColumnInfo, type RecordConverter } from './compile-record-converter.ts';
import { ParseFailure, type ParsedItem, type ParsedRecord } from './create-record-parser.ts';
import { encodeCsvRecord } from './encode-csv-record.ts';
import { formatReject } from './format-reject.ts';
import type { Pipeline } from './pipeline-schema.ts';
import { translateParseError } from './translate-parse-error.ts';

/** Counters the job samples for progress and the manifest; the row stage updates them. */
export interface RowStats {
  rows: number;
  rejected: number;
  /** UTF-8 bytes of NDJSON pushed to the rows output so far. */
  rowsBytes: number;
  /** UTF-8 bytes written to the rejects output so far. */
  rejectsBytes: number;
  /** The output columns, known once the header is read. */
  columns: readonly ColumnInfo[];
}

export interface RowTransformOptions {
  readonly pipeline: Pipeline;
  /** The delimiter in use (configured or detected), to write a reject's raw text. */
  readonly delimiter: string;
  /** `CSV_MAX_RECORD_BYTES`, for the message of an over-long record. */
  readonly maxRecordBytes: number;
  /** Where reject lines go (the rejects upload); its backpressure is honoured. */
  readonly rejects: Writable;
  readonly stats: RowStats;
}

/** Rows NDJSON is pushed in batches of about this many characters, not per row. */
const BATCH_CHARS = 64 * 1024;

/**
 * The record → NDJSON stage: takes the parser's arrays of fields, reads the
 * header, converts each record to one JSON line, writes rejects to their own
 * stream, and numbers records and physical lines (a quoted line break makes a
 * record span several lines). Nothing is kept per row: lines leave in batches.
 */
export function createRowTransform(options: RowTransformOptions): Transform {
  const { pipeline, delimiter, maxRecordBytes, rejects, stats } = options;
  const { header, quote, skipLines } = pipeline.csv;
  const maxRejected = pipeline.maxRejected;
  // Physical line where the next record starts.
  let line = skipLines + 1;
  // Number of data records seen (accepted and rejected).
  let record = 0;
  // Built from the header (or the pipeline's columns) before the first data record.
  let converter: RecordConverter | undefined = header
    ? undefined
    : compileRecordConverter(Object.keys(pipeline.columns), pipeline, line);
  if (converter) stats.columns = converter.columns;
  // NDJSON waiting to be pushed as one chunk.
  let batch = '';

  function flushBatch(stream: Transform): void {
    if (batch === '') return;
    const bytes = Buffer.from(batch);
    stats.rowsBytes += bytes.length;
    stream.push(bytes);
    batch = '';
  }

  /** One record: converted into `batch`, or written to the rejects (then true when they ask to wait). */
  function take(fields: ParsedRecord, stream: Transform): boolean {
    const start = line;
    line += 1 + lineFeedsIn(fields);
    // An empty line: a physical line, not a record.
    if (fields.length === 1 && fields[0] === '') return false;
    if (converter === undefined) {
      converter = compileRecordConverter(fields.map((name) => name.trim()), pipeline, start);
      stats.columns = converter.columns;
      return false;
    }
    record += 1;
    const result = converter.convert(fields);
    if (typeof result === 'string') {
      stats.rows += 1;
      batch += result;
      if (batch.length >= BATCH_CHARS) flushBatch(stream);
      return false;
    }
    stats.rejected += 1;
    if (maxRejected !== null && stats.rejected > maxRejected) {
      throw new AppError('too_many_rejects', `More than ${maxRejected} records were rejected (pipeline "${pipeline.name}"); the last at line ${start}: ${result.reason}.`);
    }
    const text = formatReject({ line: start, record, reason: result.reason, raw: encodeCsvRecord(fields, delimiter, quote) });
    stats.rejectsBytes += Buffer.byteLength(text);
    return !rejects.write(text);
  }

  return new Transform({
    writableObjectMode: true,
    // Items are batches of records (one per parsed input chunk): two are plenty.
    writableHighWaterMark: 2,
    readableHighWaterMark: BATCH_CHARS,
    transform(item: ParsedItem, _encoding, callback: TransformCallback) {
      if (item instanceof ParseFailure) {
        callback(translateParseError(item.error, line, maxRecordBytes));
        return;
      }
      // The rejects' backpressure is honoured once per batch (a batch holds at most one input chunk's records).
      let wait = false;
      try {
        for (const fields of item) wait = take(fields, this) || wait;
      } catch (error) {
        callback(error as Error);
        return;
      }
      if (wait) rejects.once('drain', () => callback());
      else callback();
    },
    flush(callback: TransformCallback) {
      if (converter === undefined) {
        // No header at all (an empty object): fail only if the pipeline requires columns.
        try {
          converter = compileRecordConverter([], pipeline, line);
        } catch (error) {
          callback(error as Error);
          return;
        }
        stats.columns = converter.columns;
      }
      flushBatch(this);
      callback();
    },
  });
}

function lineFeedsIn(fields: readonly string[]): number {
  let count = 0;
  for (const field of fields) {
    for (let at = field.indexOf('\n'); at !== -1; at = field.indexOf('\n', at + 1)) count += 1;
  }
  return count;
}
