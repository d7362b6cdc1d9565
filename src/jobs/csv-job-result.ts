import type { ColumnInfo } from '../csv/compile-record-converter.ts';
import type { JobOutput, JobProgress } from './job.ts';

/** Contents of `manifest.json`, written last: its presence means the outputs are complete. */
export interface CsvJobManifest {
  readonly jobId: string;
  readonly attempt: number;
  readonly pipeline: string;
  /** The object as it was read (the ETag and size of the bytes actually processed). */
  readonly source: {
    readonly bucket: string;
    readonly key: string;
    readonly etag: string | null;
    readonly versionId: string | null;
    readonly size: number | null;
  };
  /** Lines of `rows.ndjson` (a transform may write several rows for one record, or none). */
  readonly rows: number;
  readonly rejected: number;
  /** Records the pipeline's transform dropped (0 without a transform). */
  readonly dropped: number;
  readonly columns: readonly ColumnInfo[];
  /** Blocks the object was parsed in (1: one sequential pass). */
  readonly blocks: number;
  /** Bytes read from S3 (compressed bytes for a gzip object). */
  readonly bytesRead: number;
  readonly timings: {
    readonly startedAt: string;
    readonly finishedAt: string;
    readonly durationMs: number;
  };
  readonly outputs: {
    readonly bucket: string;
    readonly rows: { readonly key: string; readonly size: number };
    readonly rejects: { readonly key: string; readonly size: number };
  };
}

/** What a succeeded CSV job attempt delivers (the `done` of its run). */
export interface CsvJobResult {
  readonly output: JobOutput;
  readonly manifest: CsvJobManifest;
  /** Final counters. */
  readonly progress: JobProgress;
}
