import type { RowStats } from '../csv/create-ndjson-parser.ts';
import type { CsvJobManifest } from './csv-job-result.ts';

export interface CsvJobManifestParts {
  readonly jobId: string;
  readonly attempt: number;
  readonly pipeline: string;
  readonly source: CsvJobManifest['source'];
  readonly stats: RowStats;
  readonly blocks: number;
  readonly bytesRead: number;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  /** Where the rows and rejects went. */
  readonly output: { readonly bucket: string; readonly rows: string; readonly rejects: string };
}

/** The manifest of a finished pass: a job's, or the dry run's. */
export function buildCsvJobManifest(parts: CsvJobManifestParts): CsvJobManifest {
  const { stats, startedAt, finishedAt, output } = parts;
  return {
    jobId: parts.jobId,
    attempt: parts.attempt,
    pipeline: parts.pipeline,
    source: parts.source,
    rows: stats.rows,
    rejected: stats.rejected,
    dropped: stats.dropped,
    columns: stats.columns,
    blocks: parts.blocks,
    bytesRead: parts.bytesRead,
    timings: {
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
    },
    outputs: {
      bucket: output.bucket,
      rows: { key: output.rows, size: stats.rowsBytes },
      rejects: { key: output.rejects, size: stats.rejectsBytes },
    },
  };
}
