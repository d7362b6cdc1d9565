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

/** What a record parser emits: arrays of fields, then possibly one `ParseFailure`. */
export type ParsedItem = string[] | ParseFailure;

/**
 * csv-parse's stream parser, except that a parse error is emitted in order as a
 * `ParseFailure` instead of failing the stream at once (which would drop the
 * records still buffered before it). After the failure the parser accepts no
 * more input; the stage that receives it fails the pipeline.
 */
class RecordParser extends Parser {
  override _transform(chunk: Buffer, encoding: BufferEncoding, callback: TransformCallback): void {
    super._transform(chunk, encoding, (error?: Error | null) => this.forward(error, callback));
  }

  override _flush(callback: TransformCallback): void {
    super._flush((error?: Error | null) => this.forward(error, callback));
  }

  private forward(error: Error | null | undefined, callback: TransformCallback): void {
    if (error) this.push(new ParseFailure(error));
    callback();
  }
}

export function createRecordParser(options: Options): Parser {
  return new RecordParser(options);
}
