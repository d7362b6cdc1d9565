import { AppError } from '../errors.ts';
import type { Reject } from './format-reject.ts';
import type { Pipeline } from './pipeline-schema.ts';

/**
 * Throws `too_many_rejects` when `reject`, the `rejected`-th of the object,
 * passes the pipeline's `maxRejected`. One place for the sequential parser and
 * the join of parallel blocks, so both name the same record the same way.
 */
export function checkRejectLimit(
  pipeline: Pick<Pipeline, 'name' | 'maxRejected'>,
  rejected: number,
  reject: Pick<Reject, 'line' | 'reason'>,
): void {
  const { maxRejected } = pipeline;
  if (maxRejected !== null && rejected > maxRejected) {
    throw new AppError(
      'too_many_rejects',
      `More than ${maxRejected} records were rejected (pipeline "${pipeline.name}"); the last at line ${reject.line}: ${reject.reason}.`,
      { line: reject.line },
    );
  }
}
