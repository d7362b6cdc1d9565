/**
 * A record's fields written back as one CSV record (no line break): fields that
 * hold the delimiter, the quote or a line break are quoted, quotes doubled. For a
 * reject's `raw` this is the record's text as a canonical writer emits it, which
 * spares the parser keeping the raw text of every record.
 */
export function encodeCsvRecord(fields: readonly string[], delimiter: string, quote: string | null): string {
  if (quote === null) return fields.join(delimiter);
  const doubled = quote + quote;
  return fields
    .map((field) =>
      field.includes(delimiter) || field.includes(quote) || field.includes('\n') || field.includes('\r')
        ? quote + field.split(quote).join(doubled) + quote
        : field,
    )
    .join(delimiter);
}
