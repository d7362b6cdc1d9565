/**
 * The types a pipeline author writes a transform module against:
 *
 * ```ts
 * import type { Transform } from '../src/csv/transform.ts';
 * export const transform: Transform = (row, context) => ({ ...row, line: context.line });
 * ```
 */

/** A value of a converted row: what the column types give; an empty field is `null`. */
export type Value = string | number | boolean | null;

/** A converted record: column name → value, in header order. */
export interface Row {
  [column: string]: Value;
}

/** What `context.reject` returns; return it to send the record to the rejects. */
export interface Rejection {
  readonly reason: string;
}

/** Where the row comes from, and the way to reject it. */
export interface TransformContext {
  /** 1-based physical line where the record starts. */
  readonly line: number;
  /** 1-based number of the record among the data records. */
  readonly record: number;
  /** The source object's key. */
  readonly key: string;
  /** Sends the record to `rejects.ndjson` with this reason (return what it gives). */
  reject(reason: string): Rejection;
}

/**
 * What a transform returns: the row to write (changed or not, any JSON object), an
 * array of rows (none: the record is dropped), `null` to drop it, or `context.reject(…)`.
 */
export type TransformResult =
  Readonly<Record<string, unknown>> | readonly Readonly<Record<string, unknown>>[] | null | Rejection;

/**
 * The `transform` export of a pipeline's module. It runs on the worker threads,
 * blocks of one object at once, so it must not keep state between rows, and it
 * must be synchronous. A throw fails the job with `transform_failed`.
 */
export type Transform = (row: Row, context: TransformContext) => TransformResult;
