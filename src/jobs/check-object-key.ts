import { AppError } from '../errors.ts';

/** The longest S3 key, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;

/** Characters of a key shown in a message at most; the rest is cut. */
const SHOWN_CHARACTERS = 80;

// C0 controls (NUL, newline…), DEL and the C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Which key rule `key` breaks, as a phrase for a message, or undefined when it
 * keeps them all. The rules are the contract's, applied to the key exactly as it
 * is stored: 1 to 1,024 bytes of UTF-8, no control characters, no leading `/`,
 * no empty, `.` or `..` segment (S3 takes them, but a file system or a URL
 * rewrites them, so a key like `./processed/x` would be stored as another key),
 * and not under `reservedPrefix` (OUTPUT_PREFIX: job outputs; '' for none).
 */
export function objectKeyProblem(key: string, reservedPrefix: string): string | undefined {
  if (key === '') return 'it is empty; a key is 1 to 1,024 bytes of UTF-8';
  if (LONE_SURROGATE.test(key)) return 'it is not well-formed Unicode (a lone surrogate), so it has no UTF-8 form';
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) return `it is ${bytes} bytes of UTF-8; a key is at most ${MAX_KEY_BYTES}`;
  const control = CONTROL.exec(key);
  if (control !== null)
    return `it contains the control character ${codePoint(control[0])}; control characters (C0, DEL, C1) are not allowed`;
  if (key.startsWith('/')) return 'it starts with "/"';
  const segments = key.split('/');
  const bad = segments.findIndex((segment) => segment === '' || segment === '.' || segment === '..');
  if (bad >= 0)
    return `its segment ${bad + 1} is ${segments[bad] === '' ? 'empty' : `"${segments[bad]}"`}; empty, "." and ".." segments are not allowed`;
  if (reservedPrefix !== '' && key.startsWith(reservedPrefix))
    return `it is under OUTPUT_PREFIX (${quote(reservedPrefix)}), where job outputs are written`;
  return undefined;
}

/** Throws `invalid_key`, naming the rule and the key, when `key` breaks a key rule. */
export function checkObjectKey(key: string, reservedPrefix: string): void {
  const problem = objectKeyProblem(key, reservedPrefix);
  if (problem !== undefined) throw new AppError('invalid_key', `The key ${quote(key)} is not valid: ${problem}.`);
}

/**
 * A key as a JSON string literal, cut to its first characters, with the
 * characters JSON leaves raw but that would garble a log line or a terminal
 * (DEL, C1, line and paragraph separators) escaped too.
 */
function quote(key: string): string {
  const characters = Array.from(key);
  const shown = characters.length > SHOWN_CHARACTERS ? `${characters.slice(0, SHOWN_CHARACTERS).join('')}…` : key;
  return JSON.stringify(shown).replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function codePoint(character: string): string {
  return `U+${character.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}
