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
/**
 * Whether a field is its own canonical JSON number text, the form `String(Number(field))`
 * gives: an optional minus, no leading zero, no trailing zero in the fraction, no exponent,
 * at most 15 digits (so it round-trips exactly), not `-0`, not below 1e-6 (`String` turns
 * those to exponent form). The per-row fast path: checked character by character, no
 * regular expression, no conversion.
 */
function isCanonicalDecimal(field: string): boolean {
  const length = field.length;
  if (length === 0 || length > 17) return false;
  let at = field.charCodeAt(0) === MINUS ? 1 : 0;
  if (at === length) return false;
  const first = field.charCodeAt(at);
  let digits = 0;
  if (first === ZERO) {
    at += 1;
    digits = 1;
    // `0` itself; `-0` is not canonical.
    if (at === length) return length === 1;
  } else {
    while (at < length && isDigit(field.charCodeAt(at))) {
      at += 1;
      digits += 1;
    }
    if (digits === 0) return false;
    if (at === length) return digits <= 15;
  }
  if (field.charCodeAt(at) !== DOT) return false;
  at += 1;
  const fraction = at;
  while (at < length && isDigit(field.charCodeAt(at))) at += 1;
  if (at !== length || at === fraction || field.charCodeAt(length - 1) === ZERO) return false;
  digits += length - fraction;
  // 0.000000…: below 1e-6.
  if (first === ZERO && length - fraction >= 6 && field.startsWith('000000', fraction)) return false;
  return digits <= 15;
}

/**
 * Whether a field is its own canonical JSON integer text: no sign but minus, no leading zero, at most 15 digits, not
 * `-0`.
 */
function isCanonicalInteger(field: string): boolean {
  const length = field.length;
  const start = field.charCodeAt(0) === MINUS ? 1 : 0;
  const digits = length - start;
  if (digits === 0 || digits > 15) return false;
  if (field.charCodeAt(start) === ZERO) return length === 1;
  for (let at = start; at < length; at += 1) if (!isDigit(field.charCodeAt(at))) return false;
  return true;
}

const MINUS = 45;
const DOT = 46;
const ZERO = 48;

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function toNumber(field: string): string | undefined {
  if (isCanonicalDecimal(field)) return field;
  const text = field.trim();
  if (!DECIMAL.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? String(value) : undefined;
}

function toInteger(field: string): string | undefined {
  if (isCanonicalInteger(field)) return field;
  const text = field.trim();
  if (!INTEGER.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? String(value) : undefined;
}

function toBoolean(field: string): string | undefined {
  // The common spellings first, without a trimmed and lower-cased copy.
  if (field === 'true' || field === 'false') return field;
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

/**
 * A string as JSON text. Most fields need no escape: they are quoted as they are, after
 * one pass over their characters (quote, backslash, control characters and any surrogate,
 * which `JSON.stringify` escapes when unpaired, go to `JSON.stringify`).
 */
function toJsonString(field: string): string {
  for (let at = 0; at < field.length; at += 1) {
    const code = field.charCodeAt(at);
    if (code < 32 || code === 34 || code === 92 || (code >= 0xd800 && code <= 0xdfff)) return JSON.stringify(field);
  }
  return `"${field}"`;
}

function toTimestamp(field: string): string | undefined {
  const iso = parseTimestamp(field.trim());
  return iso === undefined ? undefined : `"${iso}"`;
}

/** One converter per column type. Strings are kept as they are (JSON-escaped). */
export const COLUMN_CONVERTERS: Readonly<Record<ColumnType, ColumnConverter>> = Object.freeze({
  string: toJsonString,
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
