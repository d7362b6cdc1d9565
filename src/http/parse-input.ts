import type { z } from 'zod';
import { AppError } from '../errors.ts';

/** Validates request input with a zod schema; a mismatch is `validation_failed` with each problem in `details`. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  const first = details[0];
  const where = first && first.path ? ` (${first.path}: ${first.message})` : first ? ` (${first.message})` : '';
  throw new AppError('validation_failed', `The ${what} is not valid${where}.`, { details });
}
