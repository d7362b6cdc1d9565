import type { S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { RowStats } from '../csv/create-ndjson-parser.ts';
import { parseBlock } from '../csv/parse-block.ts';
import type { BlockParser, BlockPermits } from '../csv/parse-csv-in-blocks.ts';
import { parseCsvStream } from '../csv/parse-csv-stream.ts';
import type { Pipeline } from '../csv/pipeline-schema.ts';
import { outputPartSize } from './output-part-size.ts';
import { createS3Upload, type S3UploadOptions, type S3UploadResult } from '../storage/create-s3-upload.ts';
import type { S3ObjectStream } from '../storage/open-s3-object-stream.ts';
import type { JobOutput } from './job.ts';

const NDJSON = 'application/x-ndjson';

export interface StreamCsvObjectParams {
  readonly client: S3Client;
  readonly source: S3ObjectStream;
  readonly sourceKey: string;
  readonly pipeline: Pipeline;
  readonly output: JobOutput;
  readonly upload: Pick<S3UploadOptions, 'partSize' | 'queueSize' | 'sse'>;
  readonly maxRecordBytes: number;
  readonly stats: RowStats;
  readonly signal: AbortSignal;
  /** `CSV_BLOCK_BYTES` (0: one pass), blocks in flight, where blocks are parsed (default: in place), permits. */
  readonly blocks: {
    readonly blockBytes: number;
    readonly maxInFlight: number;
    readonly parse?: BlockParser;
    readonly permits?: BlockPermits;
  };
}

export interface StreamedOutputs {
  readonly rows: S3UploadResult;
  readonly rejects: S3UploadResult;
  /** Blocks the object was parsed in (1: one pass). */
  readonly blocks: number;
}

/**
 * S3 body → gunzip? → blocks of whole records, parsed at once (on the parse pool)
 * and joined in order → rows upload, rejects upload, with backpressure end to
 * end; the outputs are those of one sequential pass. Resolves once both uploads completed; on any
 * failure every stream is destroyed and both uploads have settled (multipart
 * uploads aborted) before it rejects with the first error.
 */
export async function streamCsvObject(params: StreamCsvObjectParams): Promise<StreamedOutputs> {
  const {
    client,
    source,
    sourceKey,
    pipeline: definition,
    output,
    upload,
    maxRecordBytes,
    stats,
    signal,
    blocks,
  } = params;
  const gzip = isGzip(sourceKey, source.contentEncoding);
  const parts = { ...upload, partSize: outputPartSize(upload.partSize, { size: source.size, gzip }) };
  const rowsUpload = createS3Upload(client, { bucket: output.bucket, key: output.rows, contentType: NDJSON, ...parts });
  const rejectsUpload = createS3Upload(client, {
    bucket: output.bucket,
    key: output.rejects,
    contentType: NDJSON,
    ...parts,
  });
  // Aborted while the uploads finish (the parse over): stop them too, so nothing is completed after an abort.
  const abortUploads = () => {
    const reason = signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
    for (const stream of [rowsUpload.stream, rejectsUpload.stream]) stream.destroy(reason);
  };
  signal.addEventListener('abort', abortUploads, { once: true });
  const gunzip = gzip ? createGunzip() : undefined;
  const decoding = gunzip ? pipeline(source.stream, gunzip) : Promise.resolve();
  decoding.catch(() => undefined);
  // The first error seen; the uploads are still awaited before it is thrown.
  let failure: { error: unknown } | undefined;
  let count = 0;
  try {
    const input: Readable = gunzip ?? source.stream;
    // A failed upload stops the parse too (it may be waiting for that output to drain).
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    for (const done of [rowsUpload.done, rejectsUpload.done]) done.catch((error: unknown) => stop.abort(error));
    try {
      count = await parseCsvStream(input, {
        pipeline: definition,
        maxRecordBytes,
        blockBytes: blocks.blockBytes,
        maxInFlight: blocks.maxInFlight,
        parse: blocks.parse ?? ((block, context) => parseBlock(block.bytes, context)),
        ...(blocks.permits ? { permits: blocks.permits } : {}),
        // A gzip object's size says little of its CSV's.
        ...(source.size === undefined || gzip ? {} : { totalBytes: source.size }),
        rows: rowsUpload.stream,
        rejects: rejectsUpload.stream,
        stats,
        signal: stop.signal,
        key: sourceKey,
      });
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    rowsUpload.stream.end();
    rejectsUpload.stream.end();
    await decoding;
  } catch (error) {
    failure = { error };
    const reason = error instanceof Error ? error : new Error(String(error));
    for (const stream of [source.stream, gunzip, rowsUpload.stream, rejectsUpload.stream]) stream?.destroy(reason);
  }
  const [rows, rejects] = await Promise.allSettled([rowsUpload.done, rejectsUpload.done]);
  signal.removeEventListener('abort', abortUploads);
  if (failure) throw failure.error;
  if (rows.status === 'rejected') throw rows.reason;
  if (rejects.status === 'rejected') throw rejects.reason;
  return { rows: rows.value, rejects: rejects.value, blocks: count };
}

function isGzip(key: string, contentEncoding: string | undefined): boolean {
  return key.toLowerCase().endsWith('.gz') || /\b(x-)?gzip\b/i.test(contentEncoding ?? '');
}
