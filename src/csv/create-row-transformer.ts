import { AppError } from '../errors.ts';
import type { RecordRejection } from './compile-record-converter.ts';
import { firstLine, type LoadedTransform } from './load-transform.ts';
import type { Rejection, Row, TransformContext } from './transform.ts';

/** What a transformed record adds to the rows: its NDJSON lines (none: dropped) and how many. */
export interface TransformedRecord {
  readonly ndjson: string;
  readonly rows: number;
}

/** Runs the transform on one row; `line` and `record` as the parser counts them. Throws `transform_failed`. */
export type RowTransformer = (row: Row, line: number, record: number) => TransformedRecord | RecordRejection;

export interface RowTransformerOptions {
  readonly loaded: LoadedTransform;
  readonly pipeline: string;
  /** The source object's key, handed to the transform. */
  readonly key: string;
  /** Added to the parser's line and record numbers: a block counts from its own start. */
  readonly lineOffset?: number;
  readonly recordOffset?: number;
}

/** `context.reject`'s marker; only an instance made here counts, so a row shaped like it stays a row. */
class TransformRejection implements Rejection {
  constructor(readonly reason: string) {}
}

function reject(reason: string): Rejection {
  return new TransformRejection(String(reason));
}

/**
 * Calls a pipeline's transform on each converted row and encodes what it
 * returns: a row or an array of rows as NDJSON lines (`JSON.stringify`), `null`
 * or `[]` as a dropped record, `context.reject(reason)` as a rejection. A throw,
 * or a value that is none of these, fails with `transform_failed` naming the
 * module, the line and the error.
 */
export function createRowTransformer(options: RowTransformerOptions): RowTransformer {
  const { loaded, pipeline, key, lineOffset = 0, recordOffset = 0 } = options;
  const { transform, module } = loaded;

  const fail = (line: number, detail: string, cause?: unknown): AppError =>
    new AppError(
      'transform_failed',
      `The transform ${module} of pipeline "${pipeline}" failed at line ${line}: ${detail}`,
      {
        ...(cause === undefined ? {} : { cause }),
      },
    );

  const encode = (value: unknown, line: number): string => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw fail(
        line,
        `it returned ${describeValue(value)}; expected a row object, an array of rows, null or context.reject(reason)`,
      );
    }
    try {
      return `${JSON.stringify(value)}\n`;
    } catch (error) {
      throw fail(line, `its row cannot be written as JSON: ${firstLine(error)}`, error);
    }
  };

  return (row, relativeLine, relativeRecord) => {
    const line = relativeLine + lineOffset;
    const context: TransformContext = { line, record: relativeRecord + recordOffset, key, reject };
    let result: unknown;
    try {
      result = transform(row, context);
    } catch (error) {
      throw fail(line, firstLine(error), error);
    }
    if (result === null) return { ndjson: '', rows: 0 };
    if (result instanceof TransformRejection) return { reason: result.reason };
    if (Array.isArray(result)) {
      let ndjson = '';
      for (const item of result) ndjson += encode(item, line);
      return { ndjson, rows: result.length };
    }
    if (typeof (result as { then?: unknown } | undefined)?.then === 'function') {
      throw fail(line, 'it returned a promise; a transform must be synchronous');
    }
    return { ndjson: encode(result, line), rows: 1 };
  };
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'a nested array';
  return typeof value === 'string' ? 'a string' : String(value);
}
