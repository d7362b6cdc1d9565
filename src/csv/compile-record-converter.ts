import { AppError } from '../errors.ts';
import { COLUMN_CONVERTERS, EXPECTED, type ColumnConverter } from './column-converters.ts';
import type { ColumnType, Pipeline } from './pipeline-schema.ts';
import type { Row, Value } from './transform.ts';

export interface ColumnInfo {
  readonly name: string;
  readonly type: ColumnType;
}

/** Why a record was rejected. */
export interface RecordRejection {
  readonly reason: string;
}

export interface RecordConverter {
  /** The output columns, in header order, with their types. */
  readonly columns: readonly ColumnInfo[];
  /** The record as one NDJSON line (newline included), or why it is rejected. */
  convert(fields: readonly string[]): string | RecordRejection;
  /**
   * The record as a row object with the same conversions (for a transform), or the reason it is
   * rejected (a string).
   */
  toRow(fields: readonly string[]): Row | string;
}

/** A typed value from its field and the JSON text its converter gave. */
const VALUE_OF: Readonly<Record<ColumnType, (field: string, json: string) => Value>> = Object.freeze({
  string: (field) => field,
  number: (_field, json) => Number(json),
  integer: (_field, json) => Number(json),
  boolean: (_field, json) => json === 'true',
  timestamp: (_field, json) => json.slice(1, -1),
});

const MAX_VALUE_IN_REASON = 100;

/**
 * Compiles, once per job, the conversion of records to NDJSON lines: the column
 * names (from the header, or the pipeline's columns when it has no header), a
 * converter per column, the JSON key text. Header columns the pipeline does not
 * type are strings. Throws `missing_column` when the header lacks a required
 * column, `csv_invalid` when it repeats a name.
 */
export function compileRecordConverter(
  names: readonly string[],
  pipeline: Pipeline,
  headerLine: number,
): RecordConverter {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name))
      throw new AppError('csv_invalid', `The header on line ${headerLine} repeats the column "${name}".`, {
        line: headerLine,
      });
    seen.add(name);
  }
  const missing = Object.entries(pipeline.columns)
    .filter(([name, spec]) => spec.required && !seen.has(name))
    .map(([name]) => `"${name}"`);
  if (missing.length > 0) {
    throw new AppError(
      'missing_column',
      `The header${names.length === 0 ? ' (none: the object is empty)' : ` on line ${headerLine}`} lacks the required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of pipeline "${pipeline.name}".`,
      names.length === 0 ? {} : { line: headerLine },
    );
  }

  const count = names.length;
  const columns = names.map((name): ColumnInfo => ({
    name,
    type: Object.hasOwn(pipeline.columns, name) ? (pipeline.columns[name]?.type ?? 'string') : 'string',
  }));
  const required = names.map(
    (name) => Object.hasOwn(pipeline.columns, name) && pipeline.columns[name]?.required === true,
  );
  const converters: ColumnConverter[] = columns.map(({ type }) => COLUMN_CONVERTERS[type]);
  // `{"name":` for the first column, `,"name":` after.
  const keys = names.map((name, index) => `${index === 0 ? '{' : ','}${JSON.stringify(name)}:`);
  const close = count === 0 ? '{}\n' : '}\n';

  function convert(fields: readonly string[]): string | RecordRejection {
    if (fields.length !== count) {
      return { reason: `expected ${count} field${count === 1 ? '' : 's'} as in the header, found ${fields.length}` };
    }
    let line = '';
    for (let index = 0; index < count; index += 1) {
      const field = fields[index] as string;
      let json = field === '' ? 'null' : (converters[index] as ColumnConverter)(field);
      // A typed field of blanks only counts as empty.
      if (json === undefined && field.trim() === '') json = 'null';
      if (json === undefined) return { reason: describe(index, `found ${quoteValue(field)}`) };
      if (json === 'null' && required[index]) return { reason: describe(index, 'found an empty value', true) };
      line += (keys[index] as string) + json;
    }
    return line + close;
  }

  const values = columns.map(({ type }) => VALUE_OF[type]);

  function toRow(fields: readonly string[]): Row | string {
    if (fields.length !== count) {
      return `expected ${count} field${count === 1 ? '' : 's'} as in the header, found ${fields.length}`;
    }
    const row: Row = {};
    for (let index = 0; index < count; index += 1) {
      const field = fields[index] as string;
      let json = field === '' ? 'null' : (converters[index] as ColumnConverter)(field);
      if (json === undefined && field.trim() === '') json = 'null';
      if (json === undefined) return describe(index, `found ${quoteValue(field)}`);
      if (json === 'null' && required[index]) return describe(index, 'found an empty value', true);
      const name = names[index] as string;
      const value = json === 'null' ? null : (values[index] as (typeof values)[number])(field, json);
      // A column named `__proto__` is an own property, as JSON.parse would make it.
      if (name === '__proto__')
        Object.defineProperty(row, name, { value, enumerable: true, writable: true, configurable: true });
      else row[name] = value;
    }
    return row;
  }

  function describe(index: number, found: string, isRequired = false): string {
    const column = columns[index] as ColumnInfo;
    return `column ${JSON.stringify(column.name)}: expected ${EXPECTED[column.type]}${isRequired ? ' (required)' : ''}, ${found}`;
  }

  return { columns, convert, toRow };
}

function quoteValue(value: string): string {
  return JSON.stringify(value.length > MAX_VALUE_IN_REASON ? `${value.slice(0, MAX_VALUE_IN_REASON)}…` : value);
}
