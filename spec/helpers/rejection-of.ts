import { AppError } from '../../src/errors.ts';

/** The `AppError` a promise rejects with; fails the spec when it fulfils or rejects with anything else. */
export async function rejectionOf(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw new Error(`expected an AppError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a rejection, but the promise fulfilled');
}
