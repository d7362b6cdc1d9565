/** Delimiters the default pipeline chooses among, in order of preference on a tie. */
export const DELIMITER_CANDIDATES = [',', ';', '\t', '|'] as const;

/**
 * Picks the delimiter of a header line: the candidate found most often outside
 * quotes, the earlier candidate on a tie, `,` when none occurs (one column).
 * One delimiter is chosen; the others stay ordinary characters.
 */
export function sniffDelimiter(headerLine: string, quote: string | null = '"'): string {
  const counts = new Map<string, number>(DELIMITER_CANDIDATES.map((candidate) => [candidate, 0]));
  // Whether the scan is inside a quoted field.
  let quoted = false;
  for (const char of headerLine) {
    if (char === quote) quoted = !quoted;
    else if (!quoted && counts.has(char)) counts.set(char, (counts.get(char) ?? 0) + 1);
  }
  let best: string = DELIMITER_CANDIDATES[0];
  for (const candidate of DELIMITER_CANDIDATES) {
    if ((counts.get(candidate) ?? 0) > (counts.get(best) ?? 0)) best = candidate;
  }
  return best;
}
