import { CsvError } from 'csv-parse';
import { AppError } from '../errors.ts';

/**
 * A csv-parse error as `csv_invalid`, naming the physical line where the bad
 * record starts (csv-parse's own count names where it stopped).
 */
export function translateParseError(error: Error, line: number, maxRecordBytes: number): AppError {
  if (!(error instanceof CsvError)) {
    return new AppError('csv_invalid', `The CSV cannot be read from line ${line}: ${error.message}`, { cause: error });
  }
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return new AppError('csv_invalid', `Unterminated quoted field: the record starting at line ${line} opens a quote that is never closed.`, { cause: error });
    case 'CSV_MAX_RECORD_SIZE':
      return new AppError('csv_invalid', `The record starting at line ${line} is longer than CSV_MAX_RECORD_BYTES (${maxRecordBytes} bytes).`, { cause: error });
    default:
      return new AppError('csv_invalid', `Malformed CSV in the record starting at line ${line}: ${error.message}`, { cause: error });
  }
}
