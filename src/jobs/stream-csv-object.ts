import type { S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { createNdjsonParser, type RowStats } from '../csv/create-ndjson-parser.ts';
import { createRejectWriter } from '../csv/create-reject-writer.ts';
import { csvParseOptions } from '../csv/csv-parse-options.ts';
import { headerLine } from '../csv/header-line.ts';
import { peekHead } from '../csv/peek-head.ts';
import type { Pipeline } from '../csv/pipeline-schema.ts';
import { sniffDelimiter } from '../csv/sniff-delimiter.ts';
import { createS3Upload, type S3UploadOptions, type S3UploadResult } from '../storage/create-s3-upload.ts';
import type { S3ObjectStream } from '../storage/open-s3-object-stream.ts';
import type { JobOutput } from './job.ts';

/** Most bytes read ahead to find the header line when the delimiter is detected. */
const HEAD_LIMIT = 256 * 1024;
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
}

export interface StreamedOutputs {
  readonly rows: S3UploadResult;
  readonly rejects: S3UploadResult;
}

/**
 * S3 body → gunzip? → csv-parse → rows → rows upload, rejects → rejects upload,
 * with backpressure end to end. Resolves once both uploads completed; on any
 * failure every stream is destroyed and both uploads have settled (multipart
 * uploads aborted) before it rejects with the first error.
 */
export async function streamCsvObject(params: StreamCsvObjectParams): Promise<StreamedOutputs> {
  const { client, source, sourceKey, pipeline: definition, output, upload, maxRecordBytes, stats, signal } = params;
  const rowsUpload = createS3Upload(client, { bucket: output.bucket, key: output.rows, contentType: NDJSON, ...upload });
  const rejectsUpload = createS3Upload(client, { bucket: output.bucket, key: output.rejects, contentType: NDJSON, ...upload });
  const gunzip = isGzip(sourceKey, source.contentEncoding) ? createGunzip() : undefined;
  const decoding = gunzip ? pipeline(source.stream, gunzip) : Promise.resolve();
  decoding.catch(() => undefined);
  // The first error seen; the uploads are still awaited before it is thrown.
  let failure: { error: unknown } | undefined;
  try {
    let input: Readable = gunzip ?? source.stream;
    let delimiter = definition.csv.delimiter;
    if (delimiter === undefined) {
      const peeked = await peekHead(input, { lines: definition.csv.skipLines + 1, limit: HEAD_LIMIT });
      input = peeked.stream;
      delimiter = sniffDelimiter(headerLine(peeked.head, definition.csv), definition.csv.quote);
    }
    const csv = csvParseOptions(definition.csv, delimiter, maxRecordBytes);
    const parser = createNdjsonParser({ pipeline: definition, csv, delimiter, maxRecordBytes, rejects: createRejectWriter(rejectsUpload.stream, definition, stats), stats });
    // A failed rejects upload stops the parser too (it may be waiting for the rejects to drain).
    rejectsUpload.done.catch((error: unknown) => parser.destroy(error as Error));
    await pipeline(input, parser, rowsUpload.stream, { signal });
    rejectsUpload.stream.end();
    await decoding;
  } catch (error) {
    failure = { error };
    const reason = error instanceof Error ? error : new Error(String(error));
    for (const stream of [source.stream, gunzip, rowsUpload.stream, rejectsUpload.stream]) stream?.destroy(reason);
  }
  const [rows, rejects] = await Promise.allSettled([rowsUpload.done, rejectsUpload.done]);
  if (failure) throw failure.error;
  if (rows.status === 'rejected') throw rows.reason;
  if (rejects.status === 'rejected') throw rejects.reason;
  return { rows: rows.value, rejects: rejects.value };
}

function isGzip(key: string, contentEncoding: string | undefined): boolean {
  return key.toLowerCase().endsWith('.gz') || /\b(x-)?gzip\b/i.test(contentEncoding ?? '');
}
