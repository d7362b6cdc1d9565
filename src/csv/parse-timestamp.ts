// YYYY-MM-DD, then optionally T or a space and hh:mm[:ss[.fraction]], then optionally Z or ±hh[:mm].
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * An ISO-8601 date or date-time as an ISO-8601 UTC string
 * (`2024-02-12T10:00:00.000Z`), or undefined when it is not one or names no real
 * instant (`2024-02-30`). Without an offset the time is taken as UTC; fractions
 * past milliseconds are truncated.
 */
export function parseTimestamp(text: string): string | undefined {
  const canonical = canonicalUtc(text);
  if (canonical !== undefined) return canonical;
  const match = ISO_8601.exec(text);
  if (match === null) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone = 'Z'] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 24 || minute > 59 || second > 59 || (hour === 24 && (minute > 0 || second > 0 || /[1-9]/.test(fraction))))
    return undefined;
  const millis = Number(fraction.slice(0, 3).padEnd(3, '0'));
  const offsetMinutes = zoneOffsetMinutes(zone);
  if (offsetMinutes === undefined) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute - offsetMinutes, second, millis);
  const time = date.getTime();
  return Number.isNaN(time) ? undefined : date.toISOString();
}

/**
 * The fast path for the most common input, the output form itself
 * (`YYYY-MM-DDThh:mm:ss[.sss]Z`): checked character by character, with no
 * match array, substring or Date built per field.
 */
function canonicalUtc(text: string): string | undefined {
  const length = text.length;
  if (length !== 20 && length !== 24) return undefined;
  if (
    text.charCodeAt(4) !== DASH ||
    text.charCodeAt(7) !== DASH ||
    text.charCodeAt(10) !== T ||
    text.charCodeAt(13) !== COLON ||
    text.charCodeAt(16) !== COLON ||
    text.charCodeAt(length - 1) !== Z
  )
    return undefined;
  if (
    length === 24 &&
    (text.charCodeAt(19) !== DOT || digit(text, 20) < 0 || digit(text, 21) < 0 || digit(text, 22) < 0)
  )
    return undefined;
  const year = number(text, 0, 4);
  const month = number(text, 5, 2);
  const day = number(text, 8, 2);
  const hour = number(text, 11, 2);
  const minute = number(text, 14, 2);
  const second = number(text, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  return length === 24 ? text : `${text.slice(0, 19)}.000Z`;
}

const DASH = 45;
const COLON = 58;
const DOT = 46;
const T = 84;
const Z = 90;

/** The digit at `index`, or -1. */
function digit(text: string, index: number): number {
  const code = text.charCodeAt(index) - 48;
  return code >= 0 && code <= 9 ? code : -1;
}

/** The decimal number of `count` digits at `index`, or -1 when one is not a digit. */
function number(text: string, index: number, count: number): number {
  let value = 0;
  for (let at = index; at < index + count; at += 1) {
    const d = digit(text, at);
    if (d < 0) return -1;
    value = value * 10 + d;
  }
  return value;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  return month === 2 && !isLeapYear(year) ? 28 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function zoneOffsetMinutes(zone: string): number | undefined {
  if (zone === 'Z' || zone === 'z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  if (hours > 23 || minutes > 59) return undefined;
  return sign * (hours * 60 + minutes);
}
