/** Longest file-name part kept in a default key. */
const MAX_NAME_LENGTH = 100;

/**
 * The key of an upload that names none: `uploads/<yyyy>/<mm>/<dd>/<uuid>-<name>`
 * (UTC date), the client's file name reduced to its last path segment and to
 * letters, digits, `.`, `_` and `-`.
 */
export function defaultUploadKey(fileName: string | undefined, now: Date, id: string): string {
  const date = now.toISOString().slice(0, 10).replace(/-/g, '/');
  return `uploads/${date}/${id}-${sanitiseFileName(fileName)}`;
}

function sanitiseFileName(fileName: string | undefined): string {
  const base = (fileName ?? '').split(/[/\\]/).pop() ?? '';
  const safe = base
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (/^\.*$/.test(safe)) return 'upload';
  // A name that was all other characters keeps its extension: `数据.csv` → `upload.csv`.
  return (safe.startsWith('.') ? `upload${safe}` : safe).slice(-MAX_NAME_LENGTH);
}
