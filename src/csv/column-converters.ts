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
// A decimal already in the form `String(Number(field))` gives: no exponent, no leading
// zero, no trailing zero in the fraction. With at most 15 digits it round-trips exactly.
const PLAIN_DECIMAL = /^-?(?:0|[1-9]\d*)(?:\.\d*[1-9])?$/;
// Below 1e-6 `String` switches to exponent form.
const TINY = /^-?0\.0{6}/;
const PLAIN_INTEGER = /^-?(?:0|[1-9]\d{0,14})$/;

/** Whether a field is its own canonical JSON number text: the per-row fast path, no conversion needed. */
function isCanonicalDecimal(field: string): boolean {
  if (field.length > 17 || !PLAIN_DECIMAL.test(field)) return false;
  const digits = field.length - (field.charCodeAt(0) === 45 ? 1 : 0) - (field.includes('.') ? 1 : 0);
  return digits <= 15 && field !== '-0' && !TINY.test(field);
}

function toNumber(field: string): string | undefined {
  if (isCanonicalDecimal(field)) return field;
  const text = field.trim();
  if (!DECIMAL.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? String(value) : undefined;
}

function toInteger(field: string): string | undefined {
  if (PLAIN_INTEGER.test(field) && field !== '-0') return field;
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
