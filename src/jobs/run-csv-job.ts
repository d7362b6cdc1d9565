import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { RowStats } from '../csv/create-ndjson-parser.ts';
import type { BlockParser, BlockPermits } from '../csv/parse-csv-in-blocks.ts';
import type { PipelineRegistry } from '../csv/create-pipeline-registry.ts';
import { AppError } from '../errors.ts';
import { encryptionParams, type S3Encryption } from '../storage/encryption-params.ts';
import { openS3ObjectStream } from '../storage/open-s3-object-stream.ts';
import { translateS3Error } from '../storage/translate-s3-error.ts';
import { buildCsvJobManifest } from './build-csv-job-manifest.ts';
import type { CsvJobResult } from './csv-job-result.ts';
import type { Job, JobProgress } from './job.ts';
import { outputKeys } from './output-keys.ts';
import { streamCsvObject } from './stream-csv-object.ts';
import { translateJobError } from './translate-job-error.ts';

/** Longest wait for removing a failed attempt's outputs, ms. */
const CLEANUP_TIMEOUT_MS = 15_000;

/** What a CSV job needs from the service: slices of the configuration and the S3 client. */
export interface CsvJobDeps {
  readonly client: S3Client;
  /** Resolves the pipeline name stored on the job. */
  readonly pipelines: Pick<PipelineRegistry, 'byName'>;
  /** `OUTPUT_BUCKET`, `OUTPUT_PREFIX`. */
  readonly output: { readonly bucket: string; readonly prefix: string };
  /** `S3_PART_SIZE`, `S3_QUEUE_SIZE`; `S3_SSE` for every object written (outputs and manifest). */
  readonly upload: { readonly partSize: number; readonly queueSize: number; readonly sse?: S3Encryption };
  /** `CSV_MAX_RECORD_BYTES`. */
  readonly csvMaxRecordBytes: number;
  /**
   * `CSV_BLOCK_BYTES` (0: one pass), blocks in flight, where a block is parsed
   * (the shared parse pool; unset: in place, on this thread), and the permits
   * that bound blocks in flight across jobs. Unset: one pass.
   */
  readonly blocks?: {
    readonly blockBytes: number;
    readonly maxInFlight: number;
    readonly parse?: BlockParser;
    readonly permits?: BlockPermits;
  };
  /**
   * Resumed reads: broken reads in a row tolerated (default 3), first back-off (default 200 ms), silence that counts as
   * broken (default 30 s).
   */
  readonly read?: { readonly maxResumes?: number; readonly resumeDelayMs?: number; readonly idleTimeoutMs?: number };
}

export interface CsvJobRunOptions {
  /**
   * Aborting it stops the attempt: streams destroyed, multipart uploads aborted, outputs removed
   * (left as they are when the reason is `lease_lost`: they are another instance's then).
   */
  readonly signal: AbortSignal;
  /** Called every `progressIntervalMs` with the counters (sampled by a timer, never per row). */
  readonly onProgress?: (progress: JobProgress) => void;
  readonly progressIntervalMs?: number;
  /** 1-based attempt number, recorded in the manifest. */
  readonly attempt?: number;
}

/**
 * One attempt of a CSV job: the object streamed from S3 through csv-parse into
 * `rows.ndjson` and `rejects.ndjson`, then `manifest.json` put last. Any stale
 * outputs are removed first (so a manifest never vouches for outputs being
 * rewritten), and a failed or cancelled attempt removes what it wrote; one
 * stopped because another instance took the job over removes nothing, since the
 * same keys are that instance's to write. Rejects
 * with an `AppError`. Free of RxJS and of any logger: the runner (or a worker
 * thread) wraps it.
 */
export async function runCsvJob(job: Job, deps: CsvJobDeps, options: CsvJobRunOptions): Promise<CsvJobResult> {
  const { signal, onProgress, progressIntervalMs = 500, attempt = 1 } = options;
  const { client } = deps;
  const startedAt = new Date();
  const output = outputKeys(deps.output.bucket, deps.output.prefix, job.source);
  const stats: RowStats = { rows: 0, rejected: 0, dropped: 0, rowsBytes: 0, rejectsBytes: 0, columns: [] };
  let bytesRead = 0;
  let totalBytes = job.source.size;
  const progress = (): JobProgress => ({ bytesRead, totalBytes, rows: stats.rows, rejected: stats.rejected });
  const timer = onProgress ? setInterval(() => onProgress(progress()), progressIntervalMs) : undefined;
  timer?.unref();

  try {
    const pipeline = deps.pipelines.byName(job.pipeline);
    if (pipeline === undefined)
      throw new AppError('unknown_pipeline', `The job names the pipeline "${job.pipeline}", which is not defined.`);
    signal.throwIfAborted();
    await removeObjects(client, output.bucket, [output.manifest, output.rows, output.rejects], signal);
    const source = await openS3ObjectStream(client, job.source, {
      signal,
      onBytes: (bytes) => {
        bytesRead += bytes;
      },
      ...deps.read,
    });
    totalBytes = source.size ?? totalBytes;
    const { blocks } = await streamCsvObject({
      client,
      source,
      sourceKey: job.source.key,
      pipeline,
      output,
      upload: deps.upload,
      maxRecordBytes: deps.csvMaxRecordBytes,
      stats,
      signal,
      blocks: deps.blocks ?? { blockBytes: 0, maxInFlight: 1 },
    });
    const manifest = buildCsvJobManifest({
      jobId: job.id,
      attempt,
      pipeline: pipeline.name,
      source: {
        bucket: job.source.bucket,
        key: job.source.key,
        etag: source.etag ?? job.source.etag,
        versionId: source.versionId ?? job.source.versionId,
        size: source.size ?? job.source.size,
      },
      stats,
      blocks,
      bytesRead,
      startedAt,
      finishedAt: new Date(),
      output,
    });
    try {
      const body = `${JSON.stringify(manifest, null, 2)}\n`;
      await client.send(
        new PutObjectCommand({
          Bucket: output.bucket,
          Key: output.manifest,
          Body: body,
          ContentType: 'application/json',
          ...encryptionParams(deps.upload.sse),
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      throw translateS3Error(error, `writing s3://${output.bucket}/${output.manifest}`);
    }
    return { output, manifest, progress: progress() };
  } catch (error) {
    const failure = translateJobError(error, signal);
    // The job keeps the counters it had reached (a failure between two samples would otherwise show stale ones).
    onProgress?.(progress());
    // No partial outputs: best effort, bounded, and not under the (maybe aborted) job signal.
    if (failure.code !== 'lease_lost')
      await removeObjects(
        client,
        output.bucket,
        [output.rows, output.rejects, output.manifest],
        AbortSignal.timeout(CLEANUP_TIMEOUT_MS),
      ).catch(() => undefined);
    throw failure;
  } finally {
    if (timer) clearInterval(timer);
  }
}

/**
 * Deletes the keys and settles only once every delete has: a delete still in
 * flight (retried by the SDK) after the attempt failed could land after the
 * next attempt wrote the same key, and remove its output.
 */
async function removeObjects(
  client: S3Client,
  bucket: string,
  keys: readonly string[],
  signal?: AbortSignal,
): Promise<void> {
  const outcomes = await Promise.allSettled(
    keys.map((key) =>
      client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), signal ? { abortSignal: signal } : {}),
    ),
  );
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed) throw translateS3Error(failed.reason, `removing earlier outputs in s3://${bucket}/${keys[0] ?? ''}`);
}
