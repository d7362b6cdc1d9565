import { AppError } from '../errors.ts';

/** An opaque page cursor: the store's insertion sequence of the last job on a page. */
export function encodeCursor(seq: number): string {
  return Buffer.from(`s${seq}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^s(\d{1,15})$/.exec(text);
  if (match === null)
    throw new AppError(
      'validation_failed',
      'The cursor is not one this service issued; use the `next` value of a previous page.',
    );
  return Number(match[1]);
}
