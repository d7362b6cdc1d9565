import type { Options } from 'csv-parse';
import type { CsvDialect } from './pipeline-schema.ts';

/**
 * csv-parse options for one job. Records come out as arrays (the row stage maps
 * them through the header once compiled, cheaper than `columns: true`), without
 * `info` or `raw` (each costs a copy per record; the row stage counts lines
 * itself). Empty lines are let through as `['']` so that stage can count them as
 * physical lines; it skips them. Field-count mismatches are left to it too
 * (`relax_column_count`), so they become rejects, not a fatal error.
 */
export function csvParseOptions(dialect: CsvDialect, delimiter: string, maxRecordBytes: number): Options {
  return {
    bom: true,
    delimiter,
    quote: dialect.quote ?? false,
    encoding: dialect.encoding,
    // Both line endings, mixed in one object too (auto-detection would lock onto the first one seen).
    record_delimiter: ['\r\n', '\n'],
    // A quote inside an unquoted field (12" pipe) is kept as a character.
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: false,
    from_line: dialect.skipLines + 1,
    max_record_size: maxRecordBytes,
  };
}
