import type { CsvDialect } from './pipeline-schema.ts';

/**
 * The header line's text in the first bytes of an object: decoded, BOM dropped,
 * the `skipLines` lines before it passed over, line ending removed. The last
 * (possibly partial) line when the head holds fewer lines.
 */
export function headerLine(head: Buffer, dialect: Pick<CsvDialect, 'encoding' | 'skipLines'>): string {
  const text = head.toString(dialect.encoding).replace(/^\ufeff/, '');
  const lines = text.split('\n');
  const line = lines[Math.min(dialect.skipLines, lines.length - 1)] ?? '';
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
