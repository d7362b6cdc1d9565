import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/config.ts';
import type { BlockResult } from '../csv/parse-block.ts';
import type { Pipeline } from '../csv/pipeline-schema.ts';
import type { S3ClientConfig } from '../storage/create-s3-client.ts';
import { createWorkerPool } from '../workers/worker-pool.ts';
import type { CsvJobResult } from './csv-job-result.ts';
import type { CsvJobTask, CsvJobWorkerData } from './csv-job-worker.ts';
import type { JobProgress } from './job.ts';
import type { ParseBlockTask } from './parse-block-worker.ts';

/**
 * The worker threads that run CSV jobs, one job each, `JOB_CONCURRENCY` of them,
 * and the `WORKER_THREADS` parse threads their blocks share (closed with them).
 */
export function createCsvWorkerPool(config: Config, pipelines: readonly Pipeline[], s3: S3ClientConfig) {
  const extension = path.extname(fileURLToPath(import.meta.url));
  const parsePool = createWorkerPool<ParseBlockTask, never, BlockResult>({
    size: config.workerThreads,
    entry: new URL(`./parse-block-worker${extension}`, import.meta.url),
  });
  const workerData: CsvJobWorkerData = {
    s3: { ...s3, maxSockets: config.s3.queueSize * 2 + 4 },
    pipelines,
    output: { bucket: config.buckets.output, prefix: config.buckets.outputPrefix },
    upload: { partSize: config.s3.partSize, queueSize: config.s3.queueSize, sse: config.s3.sse },
    csvMaxRecordBytes: config.csvMaxRecordBytes,
    progressIntervalMs: 500,
    blocks: { blockBytes: config.csvBlockBytes, maxInFlight: 2 * config.workerThreads },
  };
  const jobPool = createWorkerPool<CsvJobTask, JobProgress, CsvJobResult>({
    size: config.jobs.concurrency,
    entry: new URL(`./csv-job-worker${extension}`, import.meta.url),
    workerData,
    // Rows are short-lived strings: a small nursery (2 MB semi-spaces) keeps each worker's RSS down.
    youngGenerationMb: 6,
    // A job's block, relayed to the parse pool; each job is a group there, so jobs share the threads fairly.
    onRequest: async (payload, { signal, group }) => {
      const task = payload as ParseBlockTask;
      const result = await parsePool.run(task, { signal, group, transfer: [task.bytes.buffer as ArrayBuffer] });
      return { result, transfer: [result.ndjson.buffer as ArrayBuffer] };
    },
  });
  return {
    ...jobPool,
    close: async () => {
      await jobPool.close();
      await parsePool.close();
    },
  };
}
