import { CsvError } from 'csv-parse';
import { AppError } from '../errors.ts';

/**
 * What went wrong in a csv-parse error, as plain data: a block parsed on a
 * worker thread hands it to the join, which alone knows the absolute line.
 */
export interface ParseFailure {
  readonly kind: 'quote_not_closed' | 'max_record_size' | 'malformed' | 'unreadable';
  /** The error's own message (for `malformed` and `unreadable`). */
  readonly detail: string;
}

/**
 * A csv-parse error as `csv_invalid`, naming the physical line where the bad
 * record starts (csv-parse's own count names where it stopped).
 */
export function translateParseError(error: Error, line: number, maxRecordBytes: number): AppError {
  return parseFailureError(describeParseError(error), line, maxRecordBytes, error);
}

export function describeParseError(error: Error): ParseFailure {
  if (!(error instanceof CsvError)) return { kind: 'unreadable', detail: error.message };
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return { kind: 'quote_not_closed', detail: error.message };
    case 'CSV_MAX_RECORD_SIZE':
      return { kind: 'max_record_size', detail: error.message };
    default:
      return { kind: 'malformed', detail: error.message };
  }
}

export function parseFailureError(
  failure: ParseFailure,
  line: number,
  maxRecordBytes: number,
  cause?: Error,
): AppError {
  const options = { line, ...(cause === undefined ? {} : { cause }) };
  switch (failure.kind) {
    case 'quote_not_closed':
      return new AppError(
        'csv_invalid',
        `Unterminated quoted field: the record starting at line ${line} opens a quote that is never closed.`,
        options,
      );
    case 'max_record_size':
      return new AppError(
        'csv_invalid',
        `The record starting at line ${line} is longer than CSV_MAX_RECORD_BYTES (${maxRecordBytes} bytes).`,
        options,
      );
    case 'malformed':
      return new AppError(
        'csv_invalid',
        `Malformed CSV in the record starting at line ${line}: ${failure.detail}`,
        options,
      );
    default:
      return new AppError('csv_invalid', `The CSV cannot be read from line ${line}: ${failure.detail}`, options);
  }
}
