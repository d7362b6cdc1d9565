import { Parser, type Options } from 'csv-parse';
import type { TransformCallback } from 'node:stream';

/**
 * The error that stopped the parser, sent down the stream behind the records
 * parsed before it, so the next stage (which numbers lines) can say where the
 * bad record starts.
 */
export class ParseFailure {
  constructor(readonly error: Error) {}
}

/** A record: its fields. */
export type ParsedRecord = string[];

/** What a record parser emits: batches of records (one per input chunk), then possibly one `ParseFailure`. */
export type ParsedItem = ParsedRecord[] | ParseFailure;

/**
 * csv-parse's stream parser, with two changes. The records parsed from one
 * input chunk leave as one array, not one stream write each: the stream
 * machinery per record cost more than the row conversion. And a parse error
 * is emitted in order as a `ParseFailure` instead of failing the stream at once
 * (which would drop the records still buffered before it); after it the parser
 * accepts no more input, and the stage that receives it fails the pipeline.
 */
class RecordParser extends Parser {
  #batch: ParsedRecord[] = [];

  // csv-parse pushes each record through `this.push`; they are gathered here instead.
  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (Array.isArray(chunk)) {
      this.#batch.push(chunk as ParsedRecord);
      return true;
    }
    this.#flushBatch();
    return super.push(chunk, encoding);
  }

  override _transform(chunk: Buffer, encoding: BufferEncoding, callback: TransformCallback): void {
    super._transform(chunk, encoding, (error?: Error | null) => this.#forward(error, callback));
  }

  override _flush(callback: TransformCallback): void {
    super._flush((error?: Error | null) => this.#forward(error, callback));
  }

  #flushBatch(): void {
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    super.push(batch);
  }

  #forward(error: Error | null | undefined, callback: TransformCallback): void {
    this.#flushBatch();
    if (error) super.push(new ParseFailure(error));
    callback();
  }
}

/** Batches waiting for the next stage: a few input chunks' worth of records. */
const READABLE_BATCHES = 4;

export function createRecordParser(options: Options): Parser {
  // The options go to the Transform too; csv-parse ignores what it does not know.
  return new RecordParser({ ...options, readableHighWaterMark: READABLE_BATCHES } as Options);
}
