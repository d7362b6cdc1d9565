import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, type AppErrorJson } from '../errors.ts';
import type { ColumnInfo } from './compile-record-converter.ts';
import { createNdjsonParser, type RowStats } from './create-ndjson-parser.ts';
import { createPieceCollector } from './create-piece-collector.ts';
import type { RejectSink } from './create-reject-writer.ts';
import { createRowTransformer, type RowTransformer } from './create-row-transformer.ts';
import { csvParseOptions } from './csv-parse-options.ts';
import { cutUtf8, REJECT_RAW_MAX_BYTES, type Reject } from './format-reject.ts';
import { loadTransform, type TransformLoader } from './load-transform.ts';
import type { Pipeline } from './pipeline-schema.ts';
import { describeParseError, type ParseFailure } from './translate-parse-error.ts';

/** What parsing one block needs besides its bytes; plain data, so it can be sent to a worker thread. */
export interface BlockContext {
  readonly pipeline: Pipeline;
  /** The delimiter in use (configured or detected). */
  readonly delimiter: string;
  /** `CSV_MAX_RECORD_BYTES`. */
  readonly maxRecordBytes: number;
  /** 0 for the object's first block: BOM, skipped lines and header are there. */
  readonly index: number;
  /** Byte offset of the block in the object. */
  readonly offset: number;
  /** The column names read from the header (every block after the first). */
  readonly names?: readonly string[];
  /** Whether the object ends with this block. */
  readonly last: boolean;
  /** The source object's key (a transform is given it). */
  readonly key: string;
  /**
   * With a transform: the physical lines and data records before the block, so the
   * transform sees absolute numbers (the join checks them, and parses the block again
   * when they were off).
   */
  readonly before?: { readonly lines: number; readonly records: number };
}

/** A reject whose `line` and `record` count from the block's start (1 = its first line, its first record). */
export type BlockReject = Reject;

/**
 * Why a block stopped: a CSV error at a line counted from the block's start,
 * or an error that already names its absolute place (the header, in block 0).
 */
export type BlockError = { readonly line: number; readonly failure: ParseFailure } | AppErrorJson;

export interface BlockResult {
  /** The rows' NDJSON in pieces of `NDJSON_PIECE_BYTES`, each its own memory (movable between threads). */
  readonly ndjson: readonly Buffer[];
  readonly rows: number;
  /** Records the transform dropped. */
  readonly dropped: number;
  readonly rejects: readonly BlockReject[];
  /** Physical lines the block spans (block 0: its skipped lines included). */
  readonly lines: number;
  /** Data records (accepted and rejected). */
  readonly records: number;
  readonly bytes: number;
  /** The column names (block 0: unset until it holds the header and passes the skipped lines). */
  readonly names: readonly string[] | undefined;
  readonly columns: readonly ColumnInfo[];
  /** Set when the parse stopped; what came before it is kept. */
  readonly error?: BlockError;
}

/**
 * Size of the pieces a block's NDJSON is returned in. The upload joins what it
 * is given into a part once it passes the part's size, so small pieces keep
 * each part's buffer close to the part. Under glibc's mmap threshold (128 KiB,
 * fixed in the image): a piece comes from memory that earlier pieces freed,
 * not from fresh pages, each of which costs a page fault when first written.
 */
export const NDJSON_PIECE_BYTES = 120 * 1024;

/**
 * Parses one block of whole records exactly as the one-pass parser would have
 * at that place in the object (it is the same parser, started at the block),
 * with line and record numbers counted from the block's start. Rejects are kept
 * as values, not checked against `maxRejected`: only the join, which sees them
 * in source order with their absolute numbers, can do that.
 */
export async function parseBlock(
  bytes: Buffer,
  context: BlockContext,
  load: TransformLoader = loadTransform,
): Promise<BlockResult> {
  const { pipeline: definition, delimiter, maxRecordBytes, index, offset, names, last, key, before } = context;
  let transform: RowTransformer | undefined;
  try {
    const loaded = await load(definition);
    if (loaded !== undefined) {
      transform = createRowTransformer({
        loaded,
        pipeline: definition.name,
        key,
        lineOffset: index === 0 ? 0 : (before?.lines ?? 0),
        recordOffset: index === 0 ? 0 : (before?.records ?? 0),
      });
    }
  } catch (failure) {
    return { ...EMPTY_RESULT, bytes: bytes.length, error: blockError(failure, 1) };
  }
  const stats: RowStats = { rows: 0, rejected: 0, dropped: 0, rowsBytes: 0, rejectsBytes: 0, columns: [] };
  const rejects: BlockReject[] = [];
  const sink: RejectSink = {
    write(reject) {
      rejects.push({ ...reject, raw: cutUtf8(reject.raw, REJECT_RAW_MAX_BYTES) });
      return true;
    },
    once: () => undefined,
  };
  const parser = createNdjsonParser({
    pipeline: definition,
    csv: csvParseOptions(definition.csv, delimiter, maxRecordBytes),
    delimiter,
    maxRecordBytes,
    rejects: sink,
    stats,
    ...(transform === undefined ? {} : { transform }),
    start: index === 0 ? undefined : { line: 1, record: 0, byteOffset: offset, names: names ?? [] },
    endsObject: last,
  });
  const collect = createPieceCollector(NDJSON_PIECE_BYTES);
  let error: BlockError | undefined;
  try {
    await pipeline(Readable.from([bytes], { objectMode: false }), parser, collect.stream);
  } catch (failure) {
    error = blockError(failure, parser.line);
  }
  // Block 0 names the columns once csv-parse has passed the skipped lines, i.e. once it handed over a record.
  const pastHead = index > 0 || parser.line > definition.csv.skipLines + 1;
  return {
    ndjson: collect.take(),
    rows: stats.rows,
    dropped: stats.dropped,
    rejects,
    lines: parser.line - 1,
    records: parser.records,
    bytes: bytes.length,
    names: pastHead ? parser.names : undefined,
    columns: stats.columns,
    ...(error === undefined ? {} : { error }),
  };
}

const EMPTY_RESULT = {
  ndjson: [],
  rows: 0,
  dropped: 0,
  rejects: [],
  lines: 0,
  records: 0,
  names: undefined,
  columns: [],
} as const;

/** A parse error as plain data: csv-parse's (translated with a cause) by where it stopped, others as they are. */
function blockError(error: unknown, line: number): BlockError {
  if (error instanceof AppError) {
    return error.code === 'csv_invalid' && error.cause instanceof Error
      ? { line, failure: describeParseError(error.cause) }
      : error.toJSON();
  }
  return { line, failure: describeParseError(error instanceof Error ? error : new Error(String(error))) };
}
