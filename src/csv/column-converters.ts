import type { ColumnType } from './pipeline-schema.ts';
import { parseTimestamp } from './parse-timestamp.ts';

/**
 * Converts a non-empty field to the JSON text of its typed value, or returns
 * undefined when the field does not convert. Emitting JSON text directly spares
 * an object and a `JSON.stringify` per row.
 */
export type ColumnConverter = (field: string) => string | undefined;

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

function toNumber(field: string): string | undefined {
  const text = field.trim();
  if (!DECIMAL.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? String(value) : undefined;
}

function toInteger(field: string): string | undefined {
  const text = field.trim();
  if (!INTEGER.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? String(value) : undefined;
}

function toBoolean(field: string): string | undefined {
  switch (field.trim().toLowerCase()) {
    case 'true':
    case '1':
      return 'true';
    case 'false':
    case '0':
      return 'false';
    default:
      return undefined;
  }
}

function toTimestamp(field: string): string | undefined {
  const iso = parseTimestamp(field.trim());
  return iso === undefined ? undefined : `"${iso}"`;
}

/** One converter per column type. Strings are kept as they are (JSON-escaped). */
export const COLUMN_CONVERTERS: Readonly<Record<ColumnType, ColumnConverter>> = Object.freeze({
  string: (field: string) => JSON.stringify(field),
  number: toNumber,
  integer: toInteger,
  boolean: toBoolean,
  timestamp: toTimestamp,
});

/** How a reject reason names what a column expects. */
export const EXPECTED: Readonly<Record<ColumnType, string>> = Object.freeze({
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean (true/false or 1/0)',
  timestamp: 'an ISO-8601 timestamp',
});
