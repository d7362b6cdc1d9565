/** Longest `raw` kept in a reject line, in UTF-8 bytes. */
export const REJECT_RAW_MAX_BYTES = 1024;

export interface Reject {
  /** 1-based physical line where the record starts. */
  readonly line: number;
  /** 1-based number of the record among the data records (header and empty lines not counted). */
  readonly record: number;
  /** Which column, what was expected, what was found. */
  readonly reason: string;
  /** The record's text, cut at 1 KiB. */
  readonly raw: string;
}

/** One line of `rejects.ndjson`, newline included. */
export function formatReject(reject: Reject): string {
  const { line, record, reason, raw } = reject;
  return `${JSON.stringify({ line, record, reason, raw: cutUtf8(raw, REJECT_RAW_MAX_BYTES) })}\n`;
}

/** `text` cut to at most `maxBytes` UTF-8 bytes, never inside a character. */
export function cutUtf8(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Back off continuation bytes (10xxxxxx) so the cut falls on a character boundary.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return bytes.subarray(0, end).toString('utf8');
}
