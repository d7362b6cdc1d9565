import { Parser, type Options } from 'csv-parse';
import type { TransformCallback } from 'node:stream';
import { assertCsvParseInternals } from './assert-csv-parse-internals.ts';
import { compileRecordConverter, type ColumnInfo, type RecordConverter } from './compile-record-converter.ts';
import type { RejectSink } from './create-reject-writer.ts';
import { encodeCsvRecord } from './encode-csv-record.ts';
import type { RowTransformer, TransformedRecord } from './create-row-transformer.ts';
import { createInvalidUtf8Tracker, type InvalidUtf8Tracker } from './invalid-utf8-tracker.ts';
import type { Pipeline } from './pipeline-schema.ts';
import { translateParseError } from './translate-parse-error.ts';

/** Counters the job samples for progress and the manifest; the parser updates them. */
export interface RowStats {
  rows: number;
  rejected: number;
  /** Records a transform dropped (returned `null` or no rows for). */
  dropped: number;
  /** UTF-8 bytes of NDJSON pushed to the rows output so far. */
  rowsBytes: number;
  /** UTF-8 bytes written to the rejects output so far. */
  rejectsBytes: number;
  /** The output columns, known once the header is read. */
  columns: readonly ColumnInfo[];
}

export interface NdjsonParserOptions {
  readonly pipeline: Pipeline;
  /** csv-parse's options for the job (see `csvParseOptions`). */
  readonly csv: Options;
  /** The delimiter in use (configured or detected), to write a reject's raw text. */
  readonly delimiter: string;
  /** `CSV_MAX_RECORD_BYTES`, for the message of an over-long record. */
  readonly maxRecordBytes: number;
  /** Where rejects go (see `createRejectWriter`); its backpressure is honoured. */
  readonly rejects: RejectSink;
  readonly stats: RowStats;
  /** Where the input starts in the object; unset: at its first byte. */
  readonly start?: ParseStart;
  /**
   * Whether the object ends with the input (default true). A first block that
   * is not the last and holds no header leaves the columns unknown, where the
   * object's end would check the pipeline's required columns.
   */
  readonly endsObject?: boolean;
  /** The pipeline's transform, when it has one: only then are row objects built. */
  readonly transform?: RowTransformer;
}

/** Where a parser stands (read once it has ended or failed). */
export interface ParsePosition {
  /** Physical line where the next record starts; after a failure, where the failing record starts. */
  readonly line: number;
  /** Data records seen (accepted and rejected), the start's included. */
  readonly records: number;
  /** The column names, once known. */
  readonly names: readonly string[] | undefined;
}

/**
 * A parse that starts at a record boundary inside the object (a block after the
 * first): csv-parse must then be given no BOM and no lines to skip.
 */
export interface ParseStart {
  /** Physical line of the first record. */
  readonly line: number;
  /** Data records before it. */
  readonly record: number;
  /** Byte offset of the input's first byte in the object. */
  readonly byteOffset: number;
  /** The column names, read from the header before this input. */
  readonly names: readonly string[];
}

// The override below reaches into csv-parse: refuse to load, saying why, if the installed one works otherwise.
assertCsvParseInternals();

/** Rows NDJSON leaves in chunks of about this many characters, not per row. */
const BATCH_CHARS = 64 * 1024;

/**
 * CSV bytes in, rows NDJSON bytes out: csv-parse's stream parser whose records
 * are converted the moment it produces them. The header is read, each record
 * becomes one JSON line, rejects go to their own stream, and records and
 * physical lines are numbered (a quoted line break makes a record span several
 * lines). No record is kept or passed through a stream of its own: it is
 * garbage before the next one is parsed, which keeps a small V8 nursery enough
 * and spares the stream machinery per record (it cost more than the
 * conversion). A parse error fails the stream with the line where the bad
 * record starts.
 */
export function createNdjsonParser(options: NdjsonParserOptions): Parser & ParsePosition {
  return new NdjsonParser(options);
}

class NdjsonParser extends Parser implements ParsePosition {
  readonly #options: NdjsonParserOptions;
  /** Physical line where the next record starts. */
  #line: number;
  /** Data records seen (accepted and rejected). */
  #record = 0;
  /** Built from the header (or the pipeline's columns) before the first data record. */
  #converter: RecordConverter | undefined;
  /** NDJSON not pushed yet. */
  #text = '';
  /** The first failure of the row stage (the rest of the chunk is ignored). */
  #failure: Error | undefined;
  /** Whether the rejects stream asked to wait. */
  #wait = false;
  /** Inside csv-parse's own `_transform`/`_flush`, whose `push(null)` is dropped. */
  #parsing = false;
  /** Where the input is not UTF-8 (a `utf8` pipeline that rejects such records). */
  readonly #utf8: InvalidUtf8Tracker | undefined;
  /** Byte offset of the input in the object, for the offsets named in rejects. */
  readonly #byteOffset: number;

  constructor(options: NdjsonParserOptions) {
    const { pipeline, start } = options;
    const csv = start === undefined ? options.csv : { ...options.csv, bom: false, from_line: 1 };
    super({ ...csv, readableObjectMode: false, readableHighWaterMark: BATCH_CHARS } as Options);
    this.#options = options;
    this.#line = start?.line ?? pipeline.csv.skipLines + 1;
    this.#record = start?.record ?? 0;
    this.#byteOffset = start?.byteOffset ?? 0;
    this.#utf8 =
      pipeline.csv.encoding === 'utf8' && pipeline.csv.invalidUtf8 === 'reject'
        ? createInvalidUtf8Tracker()
        : undefined;
    const names = start?.names ?? (pipeline.csv.header ? undefined : Object.keys(pipeline.columns));
    if (names !== undefined) this.#compile(names);
  }

  get line(): number {
    return this.#line;
  }

  get records(): number {
    return this.#record;
  }

  get names(): readonly string[] | undefined {
    return this.#converter?.columns.map((column) => column.name);
  }

  // csv-parse hands over each record through `this.push`; it is converted here.
  // Its own end-of-input `push(null)` is dropped: the stream ends after `_flush`.
  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (Array.isArray(chunk)) {
      if (this.#failure === undefined) {
        try {
          this.#take(chunk as string[]);
        } catch (error) {
          this.#failure = error as Error;
        }
      }
      return true;
    }
    if (chunk === null && this.#parsing) return true;
    return super.push(chunk, encoding);
  }

  override _transform(chunk: Buffer, encoding: BufferEncoding, callback: TransformCallback): void {
    this.#parsing = true;
    this.#utf8?.scan(chunk);
    super._transform(chunk, encoding, (error?: Error | null) => {
      this.#parsing = false;
      this.#settle(error, callback);
    });
  }

  override _flush(callback: TransformCallback): void {
    this.#parsing = true;
    this.#utf8?.end();
    super._flush((error?: Error | null) => {
      this.#parsing = false;
      if (
        !error &&
        this.#failure === undefined &&
        this.#converter === undefined &&
        this.#options.endsObject !== false
      ) {
        // No header at all (an empty object): fail only if the pipeline requires columns.
        try {
          this.#compile([]);
        } catch (failure) {
          this.#failure = failure as Error;
        }
      }
      this.#settle(error, callback);
    });
  }

  #settle(error: Error | null | undefined, callback: TransformCallback): void {
    this.#pushText();
    if (this.#failure !== undefined) callback(this.#failure);
    else if (error) callback(translateParseError(error, this.#line, this.#options.maxRecordBytes));
    else if (this.#wait) {
      this.#wait = false;
      this.#options.rejects.once('drain', () => callback());
    } else callback();
  }

  #pushText(): void {
    if (this.#text === '') return;
    const bytes = Buffer.from(this.#text);
    this.#text = '';
    this.#options.stats.rowsBytes += bytes.length;
    super.push(bytes);
  }

  #compile(names: readonly string[], line = this.#line): void {
    this.#converter = compileRecordConverter(names, this.#options.pipeline, line);
    this.#options.stats.columns = this.#converter.columns;
  }

  #take(fields: string[]): void {
    const { pipeline, stats } = this.#options;
    const start = this.#line;
    this.#line += 1 + lineFeedsIn(fields);
    // csv-parse's offset just past this record (its delimiter and a BOM counted), in bytes of the input.
    const invalidAt = this.#utf8?.takeBefore(this.info.bytes);
    // An empty line: a physical line, not a record.
    if (fields.length === 1 && fields[0] === '') return;
    if (this.#converter === undefined) {
      this.#compile(
        fields.map((name) => name.trim()),
        start,
      );
      return;
    }
    this.#record += 1;
    const { transform } = this.#options;
    const result =
      invalidAt !== undefined
        ? {
            reason: `the record is not valid UTF-8: byte offset ${this.#byteOffset + invalidAt} of the object holds an invalid sequence`,
          }
        : transform === undefined
          ? this.#converter.convert(fields)
          : this.#transformed(transform, fields, start);
    if (typeof result === 'string') {
      stats.rows += 1;
      this.#text += result;
      if (this.#text.length >= BATCH_CHARS) this.#pushText();
      return;
    }
    if ('ndjson' in result) {
      stats.rows += result.rows;
      if (result.rows === 0) stats.dropped += 1;
      this.#text += result.ndjson;
      if (this.#text.length >= BATCH_CHARS) this.#pushText();
      return;
    }
    stats.rejected += 1;
    const reject = {
      line: start,
      record: this.#record,
      reason: result.reason,
      raw: encodeCsvRecord(fields, this.#options.delimiter, pipeline.csv.quote),
    };
    if (!this.#options.rejects.write(reject)) this.#wait = true;
  }

  /** The record through the row conversion and the transform. */
  #transformed(
    transform: RowTransformer,
    fields: readonly string[],
    line: number,
  ): TransformedRecord | { readonly reason: string } {
    const row = (this.#converter as RecordConverter).toRow(fields);
    return typeof row === 'string' ? { reason: row } : transform(row, line, this.#record);
  }
}

function lineFeedsIn(fields: readonly string[]): number {
  let count = 0;
  for (const field of fields) {
    for (let at = field.indexOf('\n'); at !== -1; at = field.indexOf('\n', at + 1)) count += 1;
  }
  return count;
}
