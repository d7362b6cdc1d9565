import type { Readable } from 'node:stream';
import { headerLine } from './header-line.ts';
import { parseCsvInBlocks, type CsvInBlocksOptions } from './parse-csv-in-blocks.ts';
import { peekHead } from './peek-head.ts';
import { sniffDelimiter } from './sniff-delimiter.ts';

/** Most bytes read ahead to find the header line when the delimiter is detected. */
const HEAD_LIMIT = 256 * 1024;
/** The first block's size at most: the others wait for its header. */
const FIRST_BLOCK_BYTES = 64 * 1024;
/** Blocks that ramp up to `CSV_BLOCK_BYTES` after the first, so parse threads start early. */
const RAMP_BLOCKS = 3;

export type CsvStreamOptions = Omit<
  CsvInBlocksOptions,
  'delimiter' | 'firstBlockBytes' | 'rampBlocks' | 'maxBlockBytes'
>;

/**
 * A CSV byte stream (decoded from gzip already) into the rows and rejects
 * outputs: the delimiter detected from the header line when the pipeline names
 * none, then `parseCsvInBlocks`. What a job runs on its S3 object, and the dry
 * run on a local file. Resolves with the number of blocks parsed.
 */
export async function parseCsvStream(input: Readable, options: CsvStreamOptions): Promise<number> {
  const { pipeline, blockBytes, maxRecordBytes } = options;
  let stream = input;
  let delimiter = pipeline.csv.delimiter;
  if (delimiter === undefined) {
    const peeked = await peekHead(stream, { lines: pipeline.csv.skipLines + 1, limit: HEAD_LIMIT });
    stream = peeked.stream;
    delimiter = sniffDelimiter(headerLine(peeked.head, pipeline.csv), pipeline.csv.quote);
  }
  return parseCsvInBlocks(stream, {
    ...options,
    delimiter,
    firstBlockBytes: Math.min(blockBytes, FIRST_BLOCK_BYTES),
    rampBlocks: RAMP_BLOCKS,
    // A record may run past its block up to CSV_MAX_RECORD_BYTES (quotes and delimiters not counted there).
    maxBlockBytes: blockBytes + 4 * maxRecordBytes,
  });
}
