/**
 * Decodes an object key as S3 event notifications carry it: form-URL-encoded,
 * so `+` is a space, then percent-decoding (UTF-8). Undefined when a percent
 * sequence is malformed or does not decode to UTF-8.
 */
export function decodeS3EventKey(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
