import type { CsvDialect } from './pipeline-schema.ts';

/**
 * The header line's text in the first bytes of an object: decoded, BOM dropped,
 * the `skipLines` lines before it and any blank lines passed over, line ending
 * removed. The last (possibly partial) line when the head holds no more.
 */
export function headerLine(head: Buffer, dialect: Pick<CsvDialect, 'encoding' | 'skipLines'>): string {
  const text = head.toString(dialect.encoding).replace(/^\ufeff/, '');
  const lines = text
    .split('\n')
    .slice(dialect.skipLines)
    .map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  return lines.find((line) => line !== '') ?? lines.at(-1) ?? '';
}
