import { AppError } from '../errors.ts';
import { checkRejectLimit } from './check-reject-limit.ts';
import type { RowStats } from './create-ndjson-parser.ts';
import { formatReject } from './format-reject.ts';
import type { BlockResult } from './parse-block.ts';
import type { Pipeline } from './pipeline-schema.ts';
import { parseFailureError } from './translate-parse-error.ts';

export interface BlockJoinOptions {
  readonly pipeline: Pick<Pipeline, 'name' | 'maxRejected'>;
  /** `CSV_MAX_RECORD_BYTES`, for the message of an over-long record. */
  readonly maxRecordBytes: number;
  /** The job's counters, updated as blocks join. */
  readonly stats: RowStats;
}

/** What a joined block adds to the outputs. */
export interface JoinedBlock {
  /** The rows' NDJSON, in the pieces the block was parsed into. */
  readonly rows: readonly Buffer[];
  /** Lines of `rejects.ndjson`. */
  readonly rejects: string;
}

export interface BlockJoin {
  /**
   * The next block's result, in source order. Throws the job's error when the
   * block (or `maxRejected`, counted over the object) stops it.
   */
  add(result: BlockResult): JoinedBlock;
  /** Physical line where the next block starts. */
  readonly line: number;
  /** Data records before the next block. */
  readonly records: number;
}

/**
 * Where the sequential semantics come back: the join alone knows the absolute
 * line and record of a block's start, so it numbers the block's rejects and
 * errors, counts rejects against `maxRejected` in order (the same record trips
 * it, with the same message, as in one pass) and formats the reject lines.
 */
export function createBlockJoin(options: BlockJoinOptions): BlockJoin {
  const { pipeline, maxRecordBytes, stats } = options;
  /** Physical lines and data records of the blocks joined so far. */
  let lines = 0;
  let records = 0;

  return {
    add(result) {
      let text = '';
      for (const relative of result.rejects) {
        const reject = { ...relative, line: relative.line + lines, record: relative.record + records };
        stats.rejected += 1;
        checkRejectLimit(pipeline, stats.rejected, reject);
        text += formatReject(reject);
      }
      stats.rejectsBytes += Buffer.byteLength(text);
      const { error } = result;
      if (error !== undefined) {
        throw 'failure' in error
          ? parseFailureError(error.failure, error.line + lines, maxRecordBytes)
          : AppError.fromJSON(error);
      }
      stats.rows += result.rows;
      stats.dropped += result.dropped;
      for (const piece of result.ndjson) stats.rowsBytes += piece.length;
      stats.columns = result.columns;
      lines += result.lines;
      records += result.records;
      return { rows: result.ndjson, rejects: text };
    },
    get line() {
      return lines + 1;
    },
    get records() {
      return records;
    },
  };
}
