import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline as pipe } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { RowStats } from '../csv/create-ndjson-parser.ts';
import type { TransformLoader } from '../csv/load-transform.ts';
import { parseBlock } from '../csv/parse-block.ts';
import { parseCsvStream } from '../csv/parse-csv-stream.ts';
import type { Pipeline } from '../csv/pipeline-schema.ts';
import { buildCsvJobManifest } from './build-csv-job-manifest.ts';
import type { CsvJobManifest } from './csv-job-result.ts';

/** `CSV_BLOCK_BYTES` and `CSV_MAX_RECORD_BYTES` as the service defaults them. */
const DEFAULT_BLOCK_BYTES = 8 * 1024 * 1024;
const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;

export interface PipelineStreamRun {
  readonly pipeline: Pipeline;
  /** The CSV bytes; gunzipped when `key` ends with `.gz`. */
  readonly input: Readable;
  /** The source's name: the key a transform is given, and the manifest's source. */
  readonly key: string;
  /** Where `rows.ndjson` and `rejects.ndjson` go (left open). */
  readonly rows: Writable;
  readonly rejects: Writable;
  /** Default 8 MiB, as `CSV_BLOCK_BYTES`; 0: one sequential pass. */
  readonly blockBytes?: number;
  readonly maxRecordBytes?: number;
  /** Default: the pipeline's transform module, imported. */
  readonly loadTransform?: TransformLoader;
  readonly signal?: AbortSignal;
}

/**
 * Runs a pipeline on a local byte stream with the job's own parse, conversion
 * and transform (blocks parsed in this thread, one after the other), and gives
 * the manifest a job would write for it. No S3 and no service: the dry run
 * (`npm run try`) and `runPipelineOnText` stand on it. Rejects with the job's
 * `AppError` (`csv_invalid`, `transform_failed`, …).
 */
export async function runPipelineOnStream(run: PipelineStreamRun): Promise<CsvJobManifest> {
  const { pipeline: definition, key, rows, rejects, loadTransform } = run;
  const { blockBytes = DEFAULT_BLOCK_BYTES, maxRecordBytes = DEFAULT_MAX_RECORD_BYTES } = run;
  const signal = run.signal ?? new AbortController().signal;
  const startedAt = new Date();
  const stats: RowStats = { rows: 0, rejected: 0, dropped: 0, rowsBytes: 0, rejectsBytes: 0, columns: [] };
  let bytesRead = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytesRead += chunk.length;
      callback(null, chunk);
    },
  });
  const gunzip = key.toLowerCase().endsWith('.gz') ? createGunzip() : undefined;
  const decoding = gunzip === undefined ? pipe(run.input, counter) : pipe(run.input, counter, gunzip);
  decoding.catch(() => undefined);
  let blocks: number;
  try {
    blocks = await parseCsvStream(gunzip ?? counter, {
      pipeline: definition,
      maxRecordBytes,
      blockBytes,
      maxInFlight: 1,
      parse: (block, context) => parseBlock(block.bytes, context, loadTransform),
      rows,
      rejects,
      stats,
      signal,
      key,
      ...(loadTransform === undefined ? {} : { loadTransform }),
    });
    await decoding;
  } catch (error) {
    for (const stream of [run.input, counter, gunzip]) stream?.destroy();
    throw error;
  }
  return buildCsvJobManifest({
    jobId: 'local',
    attempt: 1,
    pipeline: definition.name,
    source: { bucket: '', key, etag: null, versionId: null, size: bytesRead },
    stats,
    blocks,
    bytesRead,
    startedAt,
    finishedAt: new Date(),
    output: { bucket: '', rows: 'rows.ndjson', rejects: 'rejects.ndjson' },
  });
}
